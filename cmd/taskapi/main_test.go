package main

import (
	"os"
	"testing"

	"taskapi/internal/apitest"
)

// The fault tests run the taskapi binary; apitest.Main removes it when they end.
func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }
