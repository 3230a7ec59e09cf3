//go:build !race

package recurrence

import "time"

// timeLimit is the most one Next or CheckAnchored may take in the tests. The slowest rules Parse accepts take
// well under it; the same rules walking to the year 9999 from today, as rrule-go alone would, take several
// times more.
const timeLimit = 100 * time.Millisecond
