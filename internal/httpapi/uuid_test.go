package httpapi

import "testing"

func TestValidUUIDTakesOnlyTheCanonicalForm(t *testing.T) {
	for s, want := range map[string]bool{
		"0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e":          true,
		"0192F0C1-8A3E-7C2B-9D4E-5F6A7B8C9D0E":          true,
		"00000000-0000-0000-0000-000000000000":          true,
		"":                                              false,
		"0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0":           false, // 35
		"0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e0":         false, // 37
		"0192f0c18a3e7c2b9d4e5f6a7b8c9d0e":              false, // no hyphens
		"{0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e}":        false,
		"urn:uuid:0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e": false,
		"0192f0c1-8a3e-7c2b-9d4e5-f6a7b8c9d0e":          false, // hyphen moved
		"0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0g":          false,
		"0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d\u00e9":      false, // é is two bytes: 36 in all
		"0192f0c1 8a3e-7c2b-9d4e-5f6a7b8c9d0e":          false,
	} {
		if got := validUUID(s) == nil; got != want {
			t.Errorf("validUUID(%q) ok = %v, want %v", s, got, want)
		}
	}
}
