package recurrence

import (
	"time"

	"github.com/teambition/rrule-go"
)

// How an expansion is bounded.
//
// rrule-go compares UNTIL only with the occurrences it finds, so a rule that never matches
// (FREQ=MONTHLY;BYMONTH=2 anchored on a 31st) walks period by period until the year 9999, where its iterator
// stops: nearly 8000 years of periods from today, for one call. The Gregorian calendar repeats exactly
// every 400 years (146097 days, which is 20871 weeks), so the expansion runs on a copy of the series moved by a
// whole number of 400-year cycles to start in latestStart-399..latestStart: the same dates on the same
// weekdays, with the iterator's own stop at most horizonYears + 399 years away whatever the rule.
//
// It looks horizonYears past due: a task that repeats less often than that does not repeat for anyone who
// will complete it, and the shorter the horizon, the closer to the iterator's end the copy starts (a rule that
// never matches walks at most horizonYears + 399 years). The rarest dates a rule can ask for, a leap day on a
// given weekday, come back within 40 years. A rule whose next occurrence is further away (FREQ=YEARLY;
// INTERVAL=500, or a rule whose INTERVAL steps around the few dates it allows) is treated as having none.
//
// The copy is in wall-clock time, written as UTC so that no zone rule takes part: a 09:00 Monday meeting is at
// 09:00 on Mondays whatever the offset; local turns it back into an instant.
const (
	horizonYears = 100
	latestStart  = rrule.MAXYEAR - horizonYears // 9899: the latest start that still sees a full horizon
)

// Next is the due date of the occurrence that follows occurrence n (1-based; the task being completed), due at
// due: the first occurrence of the rule, anchored at due in loc, strictly after both due and after (the moment
// of completion). ok is false when the series is over: COUNT reached (COUNT counts occurrences including the
// first, so with COUNT=3 occurrence 3 has no next), UNTIL passed (UNTIL is inclusive; a DATE includes its whole
// day in loc), or no occurrence within the horizon (100 years past due). A nil loc is UTC. The occurrence has
// due's time of day in loc, to the nanosecond.
func (r Rule) Next(due time.Time, loc *time.Location, n int, after time.Time) (next time.Time, ok bool) {
	if r.count > 0 && n >= r.count {
		return time.Time{}, false
	}
	if loc == nil {
		loc = time.UTC
	}
	next, ok = r.first(due, loc, after)
	if !ok || r.until.kind != noUntil && !next.Before(r.until.end(loc)) {
		return time.Time{}, false
	}
	return next, true
}

// CheckAnchored reports (as *Error) when the rule, anchored at due in loc, has no occurrence after due within
// the horizon (e.g. FREQ=MONTHLY;BYMONTH=2 anchored on a 31st): a rule that can never repeat this task. An
// exhausted COUNT/UNTIL is not an error here. A nil loc is UTC.
func (r Rule) CheckAnchored(due time.Time, loc *time.Location) error {
	if loc == nil {
		loc = time.UTC
	}
	if _, ok := r.first(due, loc, due); !ok {
		return errorf("the recurrence rule %s never repeats a task due on %s: no later date matches it within %d years",
			r.text, due.In(loc).Format(time.DateOnly), horizonYears)
	}
	return nil
}

// first is the rule's first occurrence strictly after due and after, within the horizon, ignoring COUNT and
// UNTIL.
func (r Rule) first(due time.Time, loc *time.Location, after time.Time) (time.Time, bool) {
	wall := due.In(loc)
	if r.text == "" || after.After(wall.AddDate(horizonYears, 0, 0)) {
		return time.Time{}, false
	}
	y := wall.Year()
	shift := 400 * floorDiv(latestStart-y, 400) // the largest multiple of 400 that keeps y+shift <= latestStart
	opt := r.opt
	opt.Dtstart = time.Date(y+shift, wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, time.UTC)
	// Set explicitly: left zero, rrule-go's UNTIL is 292 years past the start.
	opt.Until = opt.Dtstart.AddDate(horizonYears, 0, 0)
	rule, err := rrule.NewRRule(opt)
	if err != nil { // Parse admits only what NewRRule accepts
		return time.Time{}, false
	}
	// UTC offsets run from -12 to +14 hours, so an occurrence two days before after on the wall clock is before
	// it in time too: it is passed over without local's zone lookups, which a completion centuries late would
	// otherwise make for every occurrence in between.
	var early time.Time // zero, before every occurrence, unless after is within the horizon
	if after.After(due) {
		aw := after.In(loc)
		early = time.Date(aw.Year()+shift, aw.Month(), aw.Day()-2, aw.Hour(), aw.Minute(), aw.Second(), 0, time.UTC)
	}
	for next := rule.Iterator(); ; {
		c, ok := next()
		if !ok {
			return time.Time{}, false
		}
		if c.Before(early) {
			continue
		}
		t := local(c.Year()-shift, c.Month(), c.Day(), c.Hour(), c.Minute(), c.Second(), wall.Nanosecond(), loc)
		if t.After(due) && t.After(after) {
			return t, true
		}
	}
}

// local is time.Date, except for a wall-clock time the clocks skip (02:30 on the day summer time starts in New
// York), which RFC 5545 (3.3.5) reads "using the UTC offset before the gap": 03:30 summer time. time.Date
// leaves the choice open and in practice takes the offset after the gap, giving 01:30 standard time. A time
// the clocks repeat is the first of the two, as RFC 5545 says and time.Date does.
func local(year int, month time.Month, day, hour, min, sec, nsec int, loc *time.Location) time.Time {
	t := time.Date(year, month, day, hour, min, sec, nsec, loc)
	if h, m, s := t.Clock(); h == hour && m == min && s == sec {
		return t
	}
	// Twelve hours before the gap is before it, whichever side time.Date chose; no zone changes its offset
	// twice in twelve hours.
	_, before := t.Add(-12 * time.Hour).Zone()
	wall := time.Date(year, month, day, hour, min, sec, nsec, time.UTC)
	return wall.Add(-time.Duration(before) * time.Second).In(loc)
}

// floorDiv is a / b rounded down (Go's / rounds towards zero).
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Upcoming is the due dates of the at most k occurrences that follow occurrence n, due at due,
// as Next would give them one after the other when each is completed on time: for the service
// to store, so that completing an occurrence needs no expansion. Fewer than k when the series
// ends (COUNT, UNTIL, the horizon) first.
func (r Rule) Upcoming(due time.Time, loc *time.Location, n, k int) []time.Time {
	var out []time.Time
	for i := 0; i < k; i++ {
		next, ok := r.Next(due, loc, n+i, due)
		if !ok {
			break
		}
		out = append(out, next)
		due = next
	}
	return out
}
