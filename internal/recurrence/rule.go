// Package recurrence validates a task's RFC 5545 recurrence rule and computes when its next occurrence is
// due. The expansion itself is github.com/teambition/rrule-go's; this package decides what it may be given
// and bounds how long it may run (see next.go).
package recurrence

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/teambition/rrule-go"
)

// Limits on what a rule may say, above what a person writes. maxSetPos and maxDays are the ones that bound
// work: a rule that never matches costs every period of the expansion (see next.go) a pass over its days for
// each BYSETPOS position, and rrule-go rebuilds its tables for numbered days every month. Five positions are
// enough for "the first three weekdays" or "the first and the last", ten days for every day of the week or
// the five Thursdays and a Friday of a month.
const (
	maxLen      = 256
	maxInterval = 1000
	maxCount    = 100000
	maxItems    = 31
	maxDays     = 10
	maxSetPos   = 5
)

// Rule is a validated recurrence rule. The zero Rule has no occurrences; make one with Parse.
type Rule struct {
	text  string
	opt   rrule.ROption // FREQ, INTERVAL, WKST and the BY parts; the expansion adds the start and the horizon
	count int           // 0 without COUNT
	until until
}

// until is the UNTIL part. A DATE keeps its whole day; a DATE-TIME without Z is a wall-clock time in the task's
// zone (both resolved by end, when the zone is known); one with Z is an instant.
type until struct {
	kind untilKind
	t    time.Time // the date and clock as given (in UTC), or the instant for untilUTC
}

type untilKind int

const (
	noUntil untilKind = iota
	untilDate
	untilLocal
	untilUTC
)

// end is the first moment after the series, in loc: an occurrence is part of it when it is before end.
func (u until) end(loc *time.Location) time.Time {
	y, m, d := u.t.Date()
	switch u.kind {
	case untilDate:
		return local(y, m, d+1, 0, 0, 0, 0, loc)
	case untilLocal:
		return local(y, m, d, u.t.Hour(), u.t.Minute(), u.t.Second(), 0, loc).Add(time.Second)
	}
	return u.t.Add(time.Second)
}

// The parts in the order RFC 5545's grammar lists them, which String keeps.
var partOrder = []string{"FREQ", "UNTIL", "COUNT", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST"}

// Parts RFC 5545 defines that a task's rule cannot use, and why.
var unsupported = map[string]string{
	"BYSECOND":  "BYSECOND is not supported: the time of day comes from due_date",
	"BYMINUTE":  "BYMINUTE is not supported: the time of day comes from due_date",
	"BYHOUR":    "BYHOUR is not supported: the time of day comes from due_date",
	"BYYEARDAY": "BYYEARDAY is not supported; use BYMONTH with BYMONTHDAY",
	"BYWEEKNO":  "BYWEEKNO is not supported; use BYMONTH, BYMONTHDAY or BYDAY",
	"DTSTART":   "DTSTART is not supported: the series starts at due_date",
}

var frequencies = map[string]rrule.Frequency{
	"DAILY": rrule.DAILY, "WEEKLY": rrule.WEEKLY, "MONTHLY": rrule.MONTHLY, "YEARLY": rrule.YEARLY,
}

var weekdays = map[string]rrule.Weekday{
	"MO": rrule.MO, "TU": rrule.TU, "WE": rrule.WE, "TH": rrule.TH, "FR": rrule.FR, "SA": rrule.SA, "SU": rrule.SU,
}

// Parse validates s and returns the rule. s is an RRULE value (an optional "RRULE:" prefix and lower case are
// accepted and normalised). Errors are *Error.
func Parse(s string) (Rule, error) {
	if len(s) > maxLen {
		return Rule{}, errorf("a recurrence rule is at most %d characters; this one has %d", maxLen, len(s))
	}
	if len(s) >= 6 && strings.EqualFold(s[:6], "RRULE:") {
		s = s[6:]
	}
	if s == "" {
		return Rule{}, errorf("the recurrence rule is empty")
	}
	// Only these characters can form a rule, and refusing the rest first lets every later message quote
	// the input as it is.
	for i, c := range s {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.ContainsRune(";=,+-:", c)) {
			_, size := utf8.DecodeRuneInString(s[i:])
			return Rule{}, errorf("a recurrence rule may contain only letters, digits and the characters ; = , + - :, not %q", s[i:i+size])
		}
	}
	parts := map[string]string{}
	for part := range strings.SplitSeq(strings.ToUpper(s), ";") {
		name, value, found := strings.Cut(part, "=")
		switch {
		case part == "":
			return Rule{}, errorf(`the recurrence rule has an empty part (a stray ";")`)
		case !found:
			return Rule{}, errorf("%q is not of the form NAME=VALUE, as in FREQ=WEEKLY", part)
		case unsupported[name] != "":
			return Rule{}, errorf("%s", unsupported[name])
		case !slices.Contains(partOrder, name):
			return Rule{}, errorf("%q is not a part of a recurrence rule; use %s", name, strings.Join(partOrder, ", "))
		case value == "":
			return Rule{}, errorf("%s has no value", name)
		}
		if _, twice := parts[name]; twice {
			return Rule{}, errorf("%s is given twice", name)
		}
		parts[name] = value
	}

	var r Rule
	var err error
	freq, ok := parts["FREQ"]
	switch {
	case !ok:
		return Rule{}, errorf("FREQ is required, as in FREQ=WEEKLY")
	case freq == "HOURLY" || freq == "MINUTELY" || freq == "SECONDLY":
		return Rule{}, errorf("FREQ=%s is not supported: the time of day comes from due_date; use DAILY, WEEKLY, MONTHLY or YEARLY", freq)
	}
	if r.opt.Freq, ok = frequencies[freq]; !ok {
		return Rule{}, errorf("FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY, not %s", freq)
	}
	if v, ok := parts["UNTIL"]; ok {
		if r.until, err = parseUntil(v); err != nil {
			return Rule{}, err
		}
	}
	if v, ok := parts["COUNT"]; ok {
		if r.count, ok = number(v, maxCount); !ok {
			return Rule{}, numberError(v, "COUNT", maxCount)
		}
		if r.until.kind != noUntil {
			return Rule{}, errorf("COUNT and UNTIL cannot be used together; use one of them")
		}
	}
	if v, ok := parts["INTERVAL"]; ok {
		if r.opt.Interval, ok = number(v, maxInterval); !ok {
			return Rule{}, numberError(v, "INTERVAL", maxInterval)
		}
	}
	if v, ok := parts["BYDAY"]; ok {
		// With BYMONTH, a YEARLY rule's numbered days count within each month (RFC 5545, 3.3.10).
		inMonth := r.opt.Freq == rrule.MONTHLY || r.opt.Freq == rrule.YEARLY && parts["BYMONTH"] != ""
		if r.opt.Byweekday, err = parseDays(v, r.opt.Freq, inMonth); err != nil {
			return Rule{}, err
		}
	}
	if v, ok := parts["BYMONTHDAY"]; ok {
		if r.opt.Freq == rrule.WEEKLY {
			return Rule{}, errorf("BYMONTHDAY cannot be used with FREQ=WEEKLY (RFC 5545)")
		}
		r.opt.Bymonthday, err = parseInts(v, "BYMONTHDAY", maxItems, true, 31,
			"BYMONTHDAY days are 1 to 31, or -31 to -1 counting from the end of the month, not %s")
		if err != nil {
			return Rule{}, err
		}
	}
	if v, ok := parts["BYMONTH"]; ok {
		if r.opt.Bymonth, err = parseInts(v, "BYMONTH", 12, false, 12, "BYMONTH months are 1 to 12, not %s"); err != nil {
			return Rule{}, err
		}
	}
	if v, ok := parts["BYSETPOS"]; ok {
		if r.opt.Bysetpos, err = parseSetPos(v, r.opt.Freq); err != nil {
			return Rule{}, err
		}
		// RFC 5545 (3.3.10): BYSETPOS "MUST only be used in conjunction with another BYxxx rule part".
		if parts["BYDAY"] == "" && parts["BYMONTHDAY"] == "" && parts["BYMONTH"] == "" {
			return Rule{}, errorf("BYSETPOS needs BYDAY, BYMONTHDAY or BYMONTH to pick from")
		}
	}
	if v, ok := parts["WKST"]; ok {
		if r.opt.Wkst, ok = weekdays[v]; !ok {
			return Rule{}, errorf("WKST must be one of MO, TU, WE, TH, FR, SA or SU, not %s", v)
		}
	}
	r.text = canonical(parts, r)
	return r, nil
}

// String is the canonical form to store: upper case, no prefix, parts in a stable order.
func (r Rule) String() string { return r.text }

// canonical writes the parts in partOrder, with numbers and numbered days written plainly ("+01MO" as "1MO").
func canonical(parts map[string]string, r Rule) string {
	var b strings.Builder
	for _, name := range partOrder {
		v, ok := parts[name]
		if !ok {
			continue
		}
		switch name {
		case "COUNT":
			v = strconv.Itoa(r.count)
		case "INTERVAL":
			v = strconv.Itoa(r.opt.Interval)
		case "BYDAY":
			days := make([]string, len(r.opt.Byweekday))
			for i, d := range r.opt.Byweekday {
				days[i] = strings.TrimPrefix(d.String(), "+")
			}
			v = strings.Join(days, ",")
		case "BYMONTHDAY":
			v = joinInts(r.opt.Bymonthday)
		case "BYMONTH":
			v = joinInts(r.opt.Bymonth)
		case "BYSETPOS":
			v = joinInts(r.opt.Bysetpos)
		}
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString(name + "=" + v)
	}
	return b.String()
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// parseUntil reads YYYYMMDD, YYYYMMDDTHHMMSS or YYYYMMDDTHHMMSSZ.
func parseUntil(v string) (until, error) {
	var u until
	var layout string
	switch {
	case len(v) == 8:
		u.kind, layout = untilDate, "20060102"
	case len(v) == 15 && v[8] == 'T':
		u.kind, layout = untilLocal, "20060102T150405"
	case len(v) == 16 && v[8] == 'T' && v[15] == 'Z':
		u.kind, layout = untilUTC, "20060102T150405Z"
	}
	shaped := layout != ""
	for i, c := range []byte(v) {
		shaped = shaped && ('0' <= c && c <= '9') == ('0' <= layout[i] && layout[i] <= '9')
	}
	if !shaped {
		return until{}, errorf("UNTIL must be a date (YYYYMMDD) or a date and time (YYYYMMDDTHHMMSS, optionally ending in Z), not %s", v)
	}
	var err error
	if u.t, err = time.Parse(layout, v); err != nil { // in UTC, which is what untilUTC means
		return until{}, errorf("UNTIL=%s names a day or a time that does not exist", v)
	}
	return u, nil
}

// number reads a whole number from 1 to max written in digits. A number too long for int counts as too big.
func number(v string, max int) (int, bool) {
	n, ok := digits(v)
	return n, ok && n >= 1 && n <= max
}

func numberError(v, name string, max int) error {
	if n, ok := digits(v); ok && n > max {
		return errorf("%s must be at most %d, not %s", name, max, v)
	}
	return errorf("%s must be a whole number of at least 1, not %s", name, v)
}

// digits reads unsigned decimal digits, saturating at a billion (more than any limit here) so that no
// length overflows.
func digits(v string) (int, bool) {
	if v == "" {
		return 0, false
	}
	n := 0
	for _, c := range []byte(v) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = min(n*10+int(c-'0'), 1e9)
	}
	return n, true
}

// signed reads digits with an optional + or - sign.
func signed(v string) (int, bool) {
	switch {
	case strings.HasPrefix(v, "-"):
		n, ok := digits(v[1:])
		return -n, ok
	case strings.HasPrefix(v, "+"):
		return digits(v[1:])
	}
	return digits(v)
}

// items splits a comma-separated list, refusing empty items, more than max items and an item given twice.
func items(v, name string, max int) ([]string, error) {
	list := strings.Split(v, ",")
	if len(list) > max {
		return nil, errorf("%s has at most %d items, not %d", name, max, len(list))
	}
	for i, item := range list {
		if item == "" {
			return nil, errorf(`%s has an empty item (a stray ",")`, name)
		}
		if slices.Contains(list[:i], item) {
			return nil, errorf("%s lists %s twice", name, item)
		}
	}
	return list, nil
}

// parseInts reads a list of numbers from 1 to bound, and from -bound to -1 when negative is set; msg has one %s
// for the item out of range.
func parseInts(v, name string, max int, negative bool, bound int, msg string) ([]int, error) {
	list, err := items(v, name, max)
	if err != nil {
		return nil, err
	}
	ns := make([]int, len(list))
	for i, item := range list {
		n, ok := digits(item)
		if negative {
			n, ok = signed(item)
		}
		if !ok || n == 0 || n > bound || n < -bound {
			return nil, errorf(msg, item)
		}
		if slices.Contains(ns[:i], n) { // the same number written twice ("1,01")
			return nil, errorf("%s lists %d twice", name, n)
		}
		ns[i] = n
	}
	return ns, nil
}

// parseSetPos reads BYSETPOS, whose positions count the days of one period: at most 7 in a WEEKLY rule, 31 in a
// MONTHLY one and 366 in a YEARLY one. A DAILY period is a single day, so there is nothing to pick from. A
// position beyond its period can never match, so it is refused here rather than left to make the rule empty.
func parseSetPos(v string, freq rrule.Frequency) ([]int, error) {
	bound := map[rrule.Frequency]int{rrule.WEEKLY: 7, rrule.MONTHLY: 31, rrule.YEARLY: 366}[freq]
	if bound == 0 {
		return nil, errorf("BYSETPOS picks among the days of one period, and a DAILY rule's period is a single day; leave BYSETPOS out")
	}
	return parseInts(v, "BYSETPOS", maxSetPos, true, bound, fmt.Sprintf(
		"BYSETPOS positions in a %s rule are 1 to %d, or -%d to -1 counting from the end, not %%s", freq, bound, bound))
}

// parseDays reads BYDAY: weekdays, numbered in a MONTHLY or YEARLY rule ("1MO", the first Monday; "-1FR", the
// last Friday). RFC 5545 (3.3.10) forbids numbers in other rules (rrule-go would silently drop them) and lets
// them run to 53 in a year; within a month (inMonth) there are at most 5 of any weekday, and rrule-go indexes
// outside its tables, and panics, for larger numbers there.
func parseDays(v string, freq rrule.Frequency, inMonth bool) ([]rrule.Weekday, error) {
	list, err := items(v, "BYDAY", maxDays)
	if err != nil {
		return nil, err
	}
	days := make([]rrule.Weekday, len(list))
	for i, item := range list {
		day, ok := weekdays[item[max(0, len(item)-2):]]
		if !ok {
			return nil, errorf("BYDAY days are MO, TU, WE, TH, FR, SA and SU, numbered like 1MO or -1FR in a MONTHLY or YEARLY rule, not %s", item)
		}
		if nth := item[:len(item)-2]; nth != "" {
			bound, within := 53, "year"
			if inMonth {
				bound, within = 5, "month"
			}
			n, ok := signed(nth)
			switch {
			case freq != rrule.MONTHLY && freq != rrule.YEARLY:
				return nil, errorf("BYDAY=%s: a numbered day needs FREQ=MONTHLY or FREQ=YEARLY", item)
			case !ok || n == 0 || n > bound || n < -bound:
				return nil, errorf("BYDAY=%s: a %s has at most %d of each weekday, so the number must be 1 to %d, or -%d to -1 counting from the end",
					item, within, bound, bound, bound)
			}
			day = day.Nth(n)
		}
		for _, d := range days[:i] {
			if d == day {
				return nil, errorf("BYDAY lists %s twice", item)
			}
		}
		days[i] = day
	}
	// RFC 5545 makes BYDAY=TH,1FR every Thursday and the first Friday; rrule-go (like python-dateutil, which
	// it follows) filters by the plain days and the numbered ones in turn, so it would want a day that is both
	// and find none. Numbered days alone it unites correctly.
	plain := slices.IndexFunc(days, func(d rrule.Weekday) bool { return d.N() == 0 })
	numbered := slices.IndexFunc(days, func(d rrule.Weekday) bool { return d.N() != 0 })
	if plain >= 0 && numbered >= 0 {
		hint := ""
		if inMonth {
			hint = fmt.Sprintf(" (every %[1]s of a month is 1%[1]s,2%[1]s,3%[1]s,4%[1]s,5%[1]s)", list[plain])
		}
		return nil, errorf("BYDAY cannot mix plain days (%s) with numbered ones (%s); use one kind%s", list[plain], list[numbered], hint)
	}
	return days, nil
}
