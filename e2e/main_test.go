package e2e

import (
	"os"
	"testing"

	"taskapi/internal/apitest"
)

// The end-to-end tests run the taskapi binary; apitest.Main removes it when they end.
func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }
