package events_test

import (
	"os"
	"testing"

	"taskapi/internal/apitest"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }
