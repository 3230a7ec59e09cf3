package recurrence

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"
)

// zone loads a real time zone or stops the test.
func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := Zone(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at reads "2006-01-02 15:04" as a wall-clock time in loc; "" is the zero time.
func at(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	if s == "" {
		return time.Time{}
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNext(t *testing.T) {
	for _, tc := range []struct {
		name, rule, zone string
		due              string
		n                int
		after            string // "": completed when due
		want             string // "": the series is over
	}{
		// A 09:00 Monday meeting stays at 09:00 local when the clocks change (New York: 8 March and 1 November
		// 2026; Berlin: 29 March and 25 October).
		{"NY into summer time", "FREQ=WEEKLY;BYDAY=MO", "America/New_York", "2026-03-02 09:00", 1, "", "2026-03-09 09:00"},
		{"NY out of summer time", "FREQ=WEEKLY;BYDAY=MO", "America/New_York", "2026-10-26 09:00", 1, "", "2026-11-02 09:00"},
		{"Berlin into summer time", "FREQ=WEEKLY", "Europe/Berlin", "2026-03-23 09:00", 1, "", "2026-03-30 09:00"},
		{"Berlin out of summer time", "FREQ=WEEKLY", "Europe/Berlin", "2026-10-19 09:00", 1, "", "2026-10-26 09:00"},
		// A time the clocks skip comes forward by the jump; one they repeat is the first of the two (RFC 5545,
		// 3.3.5).
		{"in the spring gap", "FREQ=DAILY", "America/New_York", "2026-03-07 02:30", 1, "", "2026-03-08 03:30"},
		{"past the spring gap", "FREQ=DAILY", "America/New_York", "2026-03-07 03:30", 1, "", "2026-03-08 03:30"},
		{"before the spring gap", "FREQ=DAILY", "America/New_York", "2026-03-07 01:59", 1, "", "2026-03-08 01:59"},
		{"a gap at midnight", "FREQ=DAILY", "America/Santiago", "2026-09-05 00:30", 1, "", "2026-09-06 01:30"},
		{"in the autumn overlap", "FREQ=DAILY", "America/New_York", "2026-10-31 01:30", 1, "", "2026-11-01 01:30"},

		{"31st skips short months", "FREQ=MONTHLY;BYMONTHDAY=31", "UTC", "2026-01-31 09:00", 1, "", "2026-03-31 09:00"},
		{"31st skips April", "FREQ=MONTHLY;BYMONTHDAY=31", "UTC", "2026-03-31 09:00", 1, "", "2026-05-31 09:00"},
		{"31st skips September", "FREQ=MONTHLY;BYMONTHDAY=31", "UTC", "2026-08-31 09:00", 1, "", "2026-10-31 09:00"},
		{"monthly on the 31st by default", "FREQ=MONTHLY", "UTC", "2026-01-31 09:00", 1, "", "2026-03-31 09:00"},
		{"last day, February", "FREQ=MONTHLY;BYMONTHDAY=-1", "UTC", "2026-01-31 09:00", 1, "", "2026-02-28 09:00"},
		{"last day, leap February", "FREQ=MONTHLY;BYMONTHDAY=-1", "UTC", "2028-01-31 09:00", 1, "", "2028-02-29 09:00"},
		{"last day after February", "FREQ=MONTHLY;BYMONTHDAY=-1", "UTC", "2026-02-28 09:00", 1, "", "2026-03-31 09:00"},
		{"leap day, yearly", "FREQ=YEARLY", "UTC", "2024-02-29 09:00", 1, "", "2028-02-29 09:00"},
		{"leap day across 2100", "FREQ=YEARLY", "UTC", "2096-02-29 09:00", 1, "", "2104-02-29 09:00"},
		{"leap day across 2000", "FREQ=YEARLY", "UTC", "1996-02-29 09:00", 1, "", "2000-02-29 09:00"},

		{"MO,WE,FR from Monday", "FREQ=WEEKLY;BYDAY=MO,WE,FR", "Europe/Berlin", "2026-06-01 18:30", 1, "", "2026-06-03 18:30"},
		{"MO,WE,FR from Friday", "FREQ=WEEKLY;BYDAY=MO,WE,FR", "Europe/Berlin", "2026-06-05 18:30", 1, "", "2026-06-08 18:30"},
		{"last weekday of January", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "UTC", "2026-01-05 09:00", 1, "", "2026-01-30 09:00"},
		{"last weekday of February", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "UTC", "2026-01-30 09:00", 1, "", "2026-02-27 09:00"},
		{"last weekday of March", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "UTC", "2026-02-27 09:00", 1, "", "2026-03-31 09:00"},
		{"last Friday", "FREQ=MONTHLY;BYDAY=-1FR", "UTC", "2026-01-30 09:00", 1, "", "2026-02-27 09:00"},
		{"first Monday", "FREQ=MONTHLY;BYDAY=1MO", "UTC", "2026-06-01 09:00", 1, "", "2026-07-06 09:00"},
		{"first and third Tuesday", "FREQ=MONTHLY;BYDAY=1TU,3TU", "UTC", "2026-06-02 09:00", 1, "", "2026-06-16 09:00"},
		{"first and third Tuesday, next month", "FREQ=MONTHLY;BYDAY=1TU,3TU", "UTC", "2026-06-16 09:00", 1, "", "2026-07-07 09:00"},
		{"every Thursday and the first Friday", "FREQ=MONTHLY;BYDAY=1TH,2TH,3TH,4TH,5TH,1FR", "UTC", "2026-06-25 09:00", 1, "", "2026-07-02 09:00"},
		{"every Thursday and the first Friday, the Friday", "FREQ=MONTHLY;BYDAY=1TH,2TH,3TH,4TH,5TH,1FR", "UTC", "2026-07-02 09:00", 1, "", "2026-07-03 09:00"},
		{"every 2 weeks", "FREQ=WEEKLY;INTERVAL=2", "UTC", "2026-06-01 09:00", 1, "", "2026-06-15 09:00"},
		{"every 2 weeks, Tuesday to Thursday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "UTC", "2026-06-02 09:00", 1, "", "2026-06-04 09:00"},
		{"every 2 weeks, Thursday to Tuesday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "UTC", "2026-06-04 09:00", 1, "", "2026-06-16 09:00"},
		{"every 2 weeks from Sunday, weeks from Monday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,TU", "UTC", "2026-06-07 09:00", 1, "", "2026-06-16 09:00"},
		{"every 2 weeks from Sunday, weeks from Sunday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,TU;WKST=SU", "UTC", "2026-06-07 09:00", 1, "", "2026-06-09 09:00"},
		{"quarterly", "FREQ=MONTHLY;INTERVAL=3", "UTC", "2026-11-15 09:00", 1, "", "2027-02-15 09:00"},
		// Examples from RFC 5545, 3.8.5.3.
		{"RFC: third Tuesday to Thursday", "FREQ=MONTHLY;BYDAY=TU,WE,TH;BYSETPOS=3", "America/New_York", "1997-09-04 09:00", 1, "", "1997-10-07 09:00"},
		{"RFC: third Tuesday to Thursday, winter", "FREQ=MONTHLY;BYDAY=TU,WE,TH;BYSETPOS=3", "America/New_York", "1997-10-07 09:00", 1, "", "1997-11-06 09:00"},
		{"RFC: Friday the 13th", "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", "America/New_York", "1998-03-13 09:00", 1, "", "1998-11-13 09:00"},
		{"RFC: US election day", "FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8", "America/New_York", "1996-11-05 09:00", 1, "", "2000-11-07 09:00"},

		// COUNT counts occurrences, the first included.
		{"COUNT=3, first", "FREQ=DAILY;COUNT=3", "UTC", "2026-06-01 09:00", 1, "", "2026-06-02 09:00"},
		{"COUNT=3, second", "FREQ=DAILY;COUNT=3", "UTC", "2026-06-02 09:00", 2, "", "2026-06-03 09:00"},
		{"COUNT=3, third", "FREQ=DAILY;COUNT=3", "UTC", "2026-06-03 09:00", 3, "", ""},
		{"COUNT=1", "FREQ=DAILY;COUNT=1", "UTC", "2026-06-03 09:00", 1, "", ""},
		// UNTIL is inclusive: a local time is the task's zone's, a date takes its whole day.
		{"UNTIL local, reached", "FREQ=DAILY;UNTIL=20260603T090000", "Europe/Berlin", "2026-06-02 09:00", 1, "", "2026-06-03 09:00"},
		{"UNTIL local, passed", "FREQ=DAILY;UNTIL=20260603T090000", "Europe/Berlin", "2026-06-03 09:00", 2, "", ""},
		{"UNTIL local, a second short", "FREQ=DAILY;UNTIL=20260603T085959", "Europe/Berlin", "2026-06-02 09:00", 1, "", ""},
		{"UNTIL UTC, reached", "FREQ=DAILY;UNTIL=20260603T070000Z", "Europe/Berlin", "2026-06-02 09:00", 1, "", "2026-06-03 09:00"},
		{"UNTIL UTC, a second short", "FREQ=DAILY;UNTIL=20260603T065959Z", "Europe/Berlin", "2026-06-02 09:00", 1, "", ""},
		{"UNTIL date, reached", "FREQ=DAILY;UNTIL=20260603", "Europe/Berlin", "2026-06-02 23:30", 1, "", "2026-06-03 23:30"},
		{"UNTIL date, passed", "FREQ=DAILY;UNTIL=20260603", "Europe/Berlin", "2026-06-03 23:30", 2, "", ""},
		{"UNTIL before due", "FREQ=DAILY;UNTIL=20200101", "UTC", "2026-06-03 09:00", 1, "", ""},
		// Completed late: the first occurrence after completion, not after due; completed early: after due.
		{"completed late", "FREQ=WEEKLY;BYDAY=MO", "UTC", "2026-06-01 09:00", 1, "2026-06-24 15:00", "2026-06-29 09:00"},
		{"completed at an occurrence", "FREQ=WEEKLY;BYDAY=MO", "UTC", "2026-06-01 09:00", 1, "2026-06-29 09:00", "2026-07-06 09:00"},
		{"completed late, UNTIL reached", "FREQ=WEEKLY;UNTIL=20260630", "UTC", "2026-06-01 09:00", 1, "2026-06-24 15:00", "2026-06-29 09:00"},
		{"completed late, UNTIL passed", "FREQ=WEEKLY;UNTIL=20260630", "UTC", "2026-06-01 09:00", 1, "2026-06-29 15:00", ""},
		{"completed early", "FREQ=WEEKLY;BYDAY=MO", "UTC", "2026-06-01 09:00", 1, "2026-05-20 15:00", "2026-06-08 09:00"},
		{"completed decades late", "FREQ=WEEKLY;BYDAY=MO", "UTC", "1950-01-02 09:00", 1, "2026-06-24 15:00", "2026-06-29 09:00"},
		{"completed past the horizon", "FREQ=DAILY", "UTC", "1900-01-01 09:00", 1, "2026-06-24 15:00", ""},
		{"due before it matches", "FREQ=MONTHLY;BYMONTHDAY=15", "UTC", "2026-06-20 09:00", 1, "", "2026-07-15 09:00"},
		// Far from today the calendar is the same.
		{"year 1", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "UTC", "0001-01-01 00:00", 1, "", "0004-02-29 00:00"},
		// No occurrence within 100 years.
		{"February on the 31st", "FREQ=MONTHLY;BYMONTH=2", "UTC", "2026-01-31 09:00", 1, "", ""},
		{"30 February", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "UTC", "2026-01-01 09:00", 1, "", ""},
		{"seventh Monday", "FREQ=MONTHLY;BYSETPOS=7;BYDAY=MO", "UTC", "2026-01-01 09:00", 1, "", ""},
		{"99 years on", "FREQ=YEARLY;INTERVAL=99", "UTC", "2026-01-01 09:00", 1, "", "2125-01-01 09:00"},
		{"101 years on", "FREQ=YEARLY;INTERVAL=101", "UTC", "2026-01-01 09:00", 1, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc := zone(t, tc.zone)
			r, err := Parse(tc.rule)
			if err != nil {
				t.Fatal(err)
			}
			due, want := at(t, loc, tc.due), at(t, loc, tc.want)
			after := due
			if tc.after != "" {
				after = at(t, loc, tc.after)
			}
			var got time.Time
			var ok bool
			if d := took(func() { got, ok = r.Next(due, loc, tc.n, after) }); d > timeLimit {
				t.Errorf("%s from %s took %s", tc.rule, due, d)
			}
			if ok != (tc.want != "") || !got.Equal(want) || ok && got.Location() != loc {
				t.Errorf("%s from %s: %s, %v; want %s", tc.rule, due, got, ok, want)
			}
		})
	}
}

func TestNextKeepsTheTimeOfDay(t *testing.T) {
	r, _ := Parse("FREQ=DAILY")
	due := time.Date(2026, 6, 1, 9, 15, 30, 123456789, time.UTC)
	if got, ok := r.Next(due, nil, 1, due); !ok || !got.Equal(due.AddDate(0, 0, 1)) {
		t.Errorf("%s, %v", got, ok)
	}
	if _, ok := (Rule{}).Next(due, time.UTC, 1, due); ok {
		t.Error("the zero Rule has a next occurrence")
	}
}

// took is how long f takes: the best of up to three runs when one is over timeLimit, since on a busy machine a
// run can wait for a CPU, while an expansion that is really too slow is slow every time.
func took(f func()) time.Duration {
	best := time.Duration(math.MaxInt64)
	for range 3 {
		start := time.Now()
		f()
		if best = min(best, time.Since(start)); best <= timeLimit {
			break
		}
	}
	return best
}

// The calendar repeats every 400 years, so moving due by a multiple of that moves the next occurrence by the
// same: the expansion's own shift works from any year, before year 1 included.
func TestNextFarFromToday(t *testing.T) {
	years := func(v time.Time, n int) time.Time {
		return time.Date(v.Year()+n, v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), v.Location())
	}
	loc := zone(t, "UTC")
	for _, rule := range []string{"FREQ=MONTHLY;BYDAY=-1FR", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "FREQ=WEEKLY;INTERVAL=3;BYDAY=TU,SA"} {
		r, err := Parse(rule)
		if err != nil {
			t.Fatal(err)
		}
		for _, due := range []string{"2026-06-01 09:00", "2000-02-29 09:00", "2399-12-31 23:59"} {
			base := at(t, loc, due)
			want, ok := r.Next(base, loc, 1, base)
			if !ok {
				t.Fatalf("%s from %s: none", rule, due)
			}
			for _, n := range []int{-4000, -2000, 400, 8000, 10000, 100000} {
				if got, ok := r.Next(years(base, n), loc, 1, years(base, n)); !ok || !got.Equal(years(want, n)) {
					t.Errorf("%s from %s: %s, %v; want %s", rule, years(base, n), got, ok, years(want, n))
				}
			}
		}
	}
}

func TestCheckAnchored(t *testing.T) {
	for _, tc := range []struct{ rule, due, want string }{
		{"FREQ=MONTHLY;BYMONTH=2", "2026-01-31 09:00",
			"the recurrence rule FREQ=MONTHLY;BYMONTH=2 never repeats a task due on 2026-01-31: no later date matches it within 100 years"},
		{"FREQ=MONTHLY;BYMONTH=2", "2026-01-28 09:00", ""},
		{"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "2026-01-01 09:00",
			"the recurrence rule FREQ=DAILY;BYMONTHDAY=30;BYMONTH=2 never repeats a task due on 2026-01-01: no later date matches it within 100 years"},
		{"FREQ=YEARLY;INTERVAL=500", "2026-01-01 09:00",
			"the recurrence rule FREQ=YEARLY;INTERVAL=500 never repeats a task due on 2026-01-01: no later date matches it within 100 years"},
		{"FREQ=WEEKLY;BYDAY=MO", "2026-06-03 09:00", ""},
		{"FREQ=YEARLY", "2024-02-29 09:00", ""},
		{"FREQ=DAILY;COUNT=1", "2026-06-03 09:00", ""},        // exhausted, but the rule repeats
		{"FREQ=DAILY;UNTIL=20000101", "2026-06-03 09:00", ""}, // likewise
	} {
		r, err := Parse(tc.rule)
		if err != nil {
			t.Fatal(err)
		}
		loc := zone(t, "Europe/Berlin")
		err = r.CheckAnchored(at(t, loc, tc.due), loc)
		var e *Error
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s at %s: %v", tc.rule, tc.due, err)
		case tc.want != "" && (!errors.As(err, &e) || e.Message != tc.want):
			t.Errorf("%s at %s: %v, want %q", tc.rule, tc.due, err, tc.want)
		}
	}
}

// numberedWeekdays is every Monday and Tuesday of a month, each numbered: at most 10 days, so positions 11
// to 15 never match.
const numberedWeekdays = "1MO,2MO,3MO,4MO,5MO,1TU,2TU,3TU,4TU,5TU"

// Typical rules; rules that never match, anchored where the expansion walks furthest (a due date in a year
// 300 years after one divisible by 400 lands on latestStart-399, 499 years from the iterator's end): DAILY has the most periods, and
// the MONTHLY and YEARLY ones are the most expensive found among those Parse accepts (rrule-go rebuilds its
// tables for numbered days every month, and passes over every day of a period for each BYSETPOS position);
// and a completion as late as the horizon allows.
func BenchmarkNext(b *testing.B) {
	for _, bc := range []struct{ name, rule, due, after string }{
		{"weekly", "FREQ=WEEKLY;BYDAY=MO,WE,FR", "2026-06-01 09:00", "2026-06-01 17:00"},
		{"last-weekday", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "2026-06-30 09:00", "2026-06-30 17:00"},
		{"never-daily", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "2300-01-03 09:00", ""},
		{"never-monthly", "FREQ=MONTHLY;BYDAY=" + numberedWeekdays + ";BYSETPOS=11,12,13,14,15", "2300-01-03 09:00", ""},
		{"never-yearly", "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA;BYSETPOS=357,358,359,360,361", "2300-01-03 09:00", ""},
		{"late-daily", "FREQ=DAILY", "1926-01-01 09:00", "2025-12-31 09:00"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			loc := zone(b, "Europe/Berlin")
			r, err := Parse(bc.rule)
			if err != nil {
				b.Fatal(err)
			}
			due := at(b, loc, bc.due)
			after := due
			if bc.after != "" {
				after = at(b, loc, bc.after)
			}
			b.ReportAllocs()
			for b.Loop() {
				r.Next(due, loc, 1, after)
			}
		})
	}
}

func TestUpcoming(t *testing.T) {
	ny := zone(t, "America/New_York")
	for _, tc := range []struct {
		rule string
		n, k int
		want []string
	}{
		{"FREQ=WEEKLY;BYDAY=MO", 1, 3, []string{"2027-03-15 09:00", "2027-03-22 09:00", "2027-03-29 09:00"}},
		{"FREQ=WEEKLY;BYDAY=MO;COUNT=3", 1, 5, []string{"2027-03-15 09:00", "2027-03-22 09:00"}},
		{"FREQ=WEEKLY;BYDAY=MO;COUNT=3", 3, 5, nil},
		{"FREQ=DAILY;UNTIL=20270310", 1, 5, []string{"2027-03-09 09:00", "2027-03-10 09:00"}},
		{"FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30", 1, 5, nil},
	} {
		r, err := Parse(tc.rule)
		if err != nil {
			t.Fatal(err)
		}
		got := r.Upcoming(at(t, ny, "2027-03-08 09:00"), ny, tc.n, tc.k)
		var gotText []string
		for _, g := range got {
			gotText = append(gotText, g.In(ny).Format("2006-01-02 15:04"))
		}
		if !slices.Equal(gotText, tc.want) {
			t.Errorf("%s from occurrence %d: %v, want %v", tc.rule, tc.n, gotText, tc.want)
		}
		// Each is what Next gives for the one before.
		due := at(t, ny, "2027-03-08 09:00")
		for i, g := range got {
			if next, ok := r.Next(due, ny, tc.n+i, due); !ok || !next.Equal(g) {
				t.Errorf("%s: upcoming %d is %s, Next says %s", tc.rule, i, g, next)
			}
			due = g
		}
	}
}
