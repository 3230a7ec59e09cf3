//go:build race

package recurrence

import "time"

// timeLimit (see limit_test.go) allows for the race detector, which slows the expansion about fivefold.
const timeLimit = time.Second
