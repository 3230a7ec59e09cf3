package recurrence

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestParseAccepts(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"FREQ=DAILY", "FREQ=DAILY"},
		{"RRULE:FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY;BYDAY=MO"},
		{"rrule:freq=weekly;byday=mo,we,fr", "FREQ=WEEKLY;BYDAY=MO,WE,FR"},
		{"BYDAY=TU,TH;WKST=SU;INTERVAL=2;FREQ=WEEKLY", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;WKST=SU"},
		{"FREQ=WEEKLY;WKST=MO", "FREQ=WEEKLY;WKST=MO"},
		{"FREQ=WEEKLY;BYMONTH=6,7,8;BYDAY=SA", "FREQ=WEEKLY;BYDAY=SA;BYMONTH=6,7,8"},
		{"FREQ=DAILY;INTERVAL=1000", "FREQ=DAILY;INTERVAL=1000"},
		{"FREQ=DAILY;INTERVAL=" + strings.Repeat("0", 235) + "1", "FREQ=DAILY;INTERVAL=1"}, // 256 characters
		{"FREQ=DAILY;COUNT=1", "FREQ=DAILY;COUNT=1"},
		{"FREQ=DAILY;COUNT=007", "FREQ=DAILY;COUNT=7"},
		{"FREQ=DAILY;COUNT=100000", "FREQ=DAILY;COUNT=100000"},
		{"FREQ=WEEKLY;UNTIL=20261231", "FREQ=WEEKLY;UNTIL=20261231"},
		{"FREQ=WEEKLY;UNTIL=20261231T235959", "FREQ=WEEKLY;UNTIL=20261231T235959"},
		{"freq=weekly;until=20261231t235959z", "FREQ=WEEKLY;UNTIL=20261231T235959Z"},
		{"FREQ=WEEKLY;UNTIL=20280229T000000Z", "FREQ=WEEKLY;UNTIL=20280229T000000Z"},
		// Numbered days: in a month 1 to 5 either way, in a year up to 53.
		{"FREQ=MONTHLY;BYDAY=1MO", "FREQ=MONTHLY;BYDAY=1MO"},
		{"FREQ=MONTHLY;BYDAY=+1MO,-1FR,01WE,5SU,-5SA", "FREQ=MONTHLY;BYDAY=1MO,-1FR,1WE,5SU,-5SA"},
		{"FREQ=MONTHLY;BYDAY=1TU,3TU", "FREQ=MONTHLY;BYDAY=1TU,3TU"},
		{"FREQ=YEARLY;BYDAY=20MO,-53SU,53TH", "FREQ=YEARLY;BYDAY=20MO,-53SU,53TH"},
		{"FREQ=YEARLY;BYMONTH=4;BYDAY=-1SU", "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=4"},
		{"FREQ=MONTHLY;BYMONTHDAY=31", "FREQ=MONTHLY;BYMONTHDAY=31"},
		{"FREQ=MONTHLY;BYMONTHDAY=1,+15,-1,-31", "FREQ=MONTHLY;BYMONTHDAY=1,15,-1,-31"},
		{"FREQ=DAILY;BYMONTHDAY=1", "FREQ=DAILY;BYMONTHDAY=1"},
		{"FREQ=YEARLY;BYMONTH=01,7;BYMONTHDAY=1", "FREQ=YEARLY;BYMONTHDAY=1;BYMONTH=1,7"},
		{"FREQ=YEARLY;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12", "FREQ=YEARLY;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12"},
		{"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"},
		{"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,2,3,4,-1", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,2,3,4,-1"},
		{"FREQ=MONTHLY;BYMONTHDAY=1,15;BYSETPOS=31,-31", "FREQ=MONTHLY;BYMONTHDAY=1,15;BYSETPOS=31,-31"},
		{"FREQ=WEEKLY;BYDAY=MO,FR;BYSETPOS=+7,-7", "FREQ=WEEKLY;BYDAY=MO,FR;BYSETPOS=7,-7"},
		{"FREQ=YEARLY;BYMONTH=3;BYSETPOS=366,-366", "FREQ=YEARLY;BYMONTH=3;BYSETPOS=366,-366"},
		{"FREQ=MONTHLY;COUNT=12;INTERVAL=3;BYDAY=-1FR;BYMONTHDAY=-7,-6,-5,-4,-3,-2,-1;BYMONTH=3,6,9,12;BYSETPOS=1;WKST=SU",
			"FREQ=MONTHLY;COUNT=12;INTERVAL=3;BYDAY=-1FR;BYMONTHDAY=-7,-6,-5,-4,-3,-2,-1;BYMONTH=3,6,9,12;BYSETPOS=1;WKST=SU"},
	} {
		r, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if r.String() != tc.want {
			t.Errorf("Parse(%q) = %q, want %q", tc.in, r, tc.want)
		}
		if again, err := Parse(r.String()); err != nil || again.String() != r.String() {
			t.Errorf("Parse(%q) = %q, %v: the canonical form does not read back as itself", r, again, err)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	const unknown = "is not a part of a recurrence rule; use FREQ, UNTIL, COUNT, INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, WKST"
	const untilShape = "UNTIL must be a date (YYYYMMDD) or a date and time (YYYYMMDDTHHMMSS, optionally ending in Z), not "
	const dayName = "BYDAY days are MO, TU, WE, TH, FR, SA and SU, numbered like 1MO or -1FR in a MONTHLY or YEARLY rule, not "
	const monthDay = "BYMONTHDAY days are 1 to 31, or -31 to -1 counting from the end of the month, not "
	const inMonth = ": a month has at most 5 of each weekday, so the number must be 1 to 5, or -5 to -1 counting from the end"
	const inYear = ": a year has at most 53 of each weekday, so the number must be 1 to 53, or -53 to -1 counting from the end"
	for _, tc := range []struct{ in, want string }{
		// The shape of the whole.
		{"", "the recurrence rule is empty"},
		{"RRULE:", "the recurrence rule is empty"},
		{"FREQ=DAILY;INTERVAL=" + strings.Repeat("0", 236) + "1", "a recurrence rule is at most 256 characters; this one has 257"},
		{"FREQ=WEEKLY; BYDAY=MO", `a recurrence rule may contain only letters, digits and the characters ; = , + - :, not " "`},
		{"FREQ=WEEKLY\nBYDAY=MO", `a recurrence rule may contain only letters, digits and the characters ; = , + - :, not "\n"`},
		{"FREQ=DAILY\x00", `a recurrence rule may contain only letters, digits and the characters ; = , + - :, not "\x00"`},
		{"FREQ=DAILY;INTERVAL=1.5", `a recurrence rule may contain only letters, digits and the characters ; = , + - :, not "."`},
		{"FREQ=WÉEKLY", `a recurrence rule may contain only letters, digits and the characters ; = , + - :, not "É"`},
		{"FREQ=\xffDAILY", `a recurrence rule may contain only letters, digits and the characters ; = , + - :, not "\xff"`},
		{"FREQ=DAILY;", `the recurrence rule has an empty part (a stray ";")`},
		{";FREQ=DAILY", `the recurrence rule has an empty part (a stray ";")`},
		{"FREQ=DAILY;;COUNT=2", `the recurrence rule has an empty part (a stray ";")`},
		{"FREQ", `"FREQ" is not of the form NAME=VALUE, as in FREQ=WEEKLY`},
		{"FREQ=DAILY;WEEKLY", `"WEEKLY" is not of the form NAME=VALUE, as in FREQ=WEEKLY`},
		{"FREQ=", "FREQ has no value"},
		{"FREQ=DAILY;COUNT=", "COUNT has no value"},
		{"FREQ=DAILY;FREQ=WEEKLY", "FREQ is given twice"},
		{"FREQ=DAILY;COUNT=2;count=3", "COUNT is given twice"},
		{"FREQ=DAILY;FOO=1", `"FOO" ` + unknown},
		{"FREQ=DAILY;=1", `"" ` + unknown},
		{"FREQ=DAILY;BYEASTER=0", `"BYEASTER" ` + unknown},
		{"RRULE:RRULE:FREQ=DAILY", `"RRULE:FREQ" ` + unknown},
		{"FREQ=DAILY;BYHOUR=9", "BYHOUR is not supported: the time of day comes from due_date"},
		{"FREQ=DAILY;BYMINUTE=30", "BYMINUTE is not supported: the time of day comes from due_date"},
		{"FREQ=DAILY;BYSECOND=0", "BYSECOND is not supported: the time of day comes from due_date"},
		{"FREQ=YEARLY;BYYEARDAY=100", "BYYEARDAY is not supported; use BYMONTH with BYMONTHDAY"},
		{"FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO is not supported; use BYMONTH, BYMONTHDAY or BYDAY"},
		{"FREQ=DAILY;DTSTART=20260101T090000", "DTSTART is not supported: the series starts at due_date"},
		// FREQ.
		{"INTERVAL=2", "FREQ is required, as in FREQ=WEEKLY"},
		{"FREQ=HOURLY", "FREQ=HOURLY is not supported: the time of day comes from due_date; use DAILY, WEEKLY, MONTHLY or YEARLY"},
		{"FREQ=MINUTELY", "FREQ=MINUTELY is not supported: the time of day comes from due_date; use DAILY, WEEKLY, MONTHLY or YEARLY"},
		{"FREQ=SECONDLY", "FREQ=SECONDLY is not supported: the time of day comes from due_date; use DAILY, WEEKLY, MONTHLY or YEARLY"},
		{"FREQ=FORTNIGHTLY", "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY, not FORTNIGHTLY"},
		{"FREQ=DAILY=WEEKLY", "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY, not DAILY=WEEKLY"},
		// INTERVAL and COUNT.
		{"FREQ=DAILY;INTERVAL=0", "INTERVAL must be a whole number of at least 1, not 0"},
		{"FREQ=DAILY;INTERVAL=-1", "INTERVAL must be a whole number of at least 1, not -1"},
		{"FREQ=DAILY;INTERVAL=+2", "INTERVAL must be a whole number of at least 1, not +2"},
		{"FREQ=DAILY;INTERVAL=two", "INTERVAL must be a whole number of at least 1, not TWO"},
		{"FREQ=DAILY;INTERVAL=1001", "INTERVAL must be at most 1000, not 1001"},
		{"FREQ=DAILY;INTERVAL=99999999999999999999999", "INTERVAL must be at most 1000, not 99999999999999999999999"},
		{"FREQ=DAILY;COUNT=0", "COUNT must be a whole number of at least 1, not 0"},
		{"FREQ=DAILY;COUNT=1,2", "COUNT must be a whole number of at least 1, not 1,2"},
		{"FREQ=DAILY;COUNT=100001", "COUNT must be at most 100000, not 100001"},
		// UNTIL.
		{"FREQ=DAILY;COUNT=3;UNTIL=20261231", "COUNT and UNTIL cannot be used together; use one of them"},
		{"FREQ=DAILY;UNTIL=2026", untilShape + "2026"},
		{"FREQ=DAILY;UNTIL=2026-12-31", untilShape + "2026-12-31"},
		{"FREQ=DAILY;UNTIL=2026-12-31T09:00:00Z", untilShape + "2026-12-31T09:00:00Z"},
		{"FREQ=DAILY;UNTIL=20261231T0900", untilShape + "20261231T0900"},
		{"FREQ=DAILY;UNTIL=20261231T090000+0100", untilShape + "20261231T090000+0100"},
		{"FREQ=DAILY;UNTIL=20261231X090000", untilShape + "20261231X090000"},
		{"FREQ=DAILY;UNTIL=20261231T09000Z", untilShape + "20261231T09000Z"},
		{"FREQ=DAILY;UNTIL=+2026123", untilShape + "+2026123"},
		{"FREQ=DAILY;UNTIL=20260230", "UNTIL=20260230 names a day or a time that does not exist"},
		{"FREQ=DAILY;UNTIL=20271301", "UNTIL=20271301 names a day or a time that does not exist"},
		{"FREQ=DAILY;UNTIL=20261231T240000", "UNTIL=20261231T240000 names a day or a time that does not exist"},
		{"FREQ=DAILY;UNTIL=20261231T235960Z", "UNTIL=20261231T235960Z names a day or a time that does not exist"},
		// BYDAY.
		{"FREQ=WEEKLY;BYDAY=XX", dayName + "XX"},
		{"FREQ=WEEKLY;BYDAY=M", dayName + "M"},
		{"FREQ=WEEKLY;BYDAY=MONDAY", dayName + "MONDAY"},
		{"FREQ=WEEKLY;BYDAY=MO,,TU", `BYDAY has an empty item (a stray ",")`},
		{"FREQ=WEEKLY;BYDAY=MO,", `BYDAY has an empty item (a stray ",")`},
		{"FREQ=WEEKLY;BYDAY=MO,TU,MO", "BYDAY lists MO twice"},
		{"FREQ=MONTHLY;BYDAY=1MO,+1MO", "BYDAY lists +1MO twice"},
		{"FREQ=WEEKLY;BYDAY=1MO", "BYDAY=1MO: a numbered day needs FREQ=MONTHLY or FREQ=YEARLY"},
		{"FREQ=DAILY;BYDAY=-1FR", "BYDAY=-1FR: a numbered day needs FREQ=MONTHLY or FREQ=YEARLY"},
		{"FREQ=MONTHLY;BYDAY=6MO", "BYDAY=6MO" + inMonth},
		{"FREQ=MONTHLY;BYDAY=-53MO", "BYDAY=-53MO" + inMonth},
		{"FREQ=MONTHLY;BYDAY=0MO", "BYDAY=0MO" + inMonth},
		{"FREQ=MONTHLY;BYDAY=+MO", "BYDAY=+MO" + inMonth},
		{"FREQ=MONTHLY;BYDAY=1+MO", "BYDAY=1+MO" + inMonth},
		{"FREQ=YEARLY;BYMONTH=4;BYDAY=-6SU", "BYDAY=-6SU" + inMonth},
		{"FREQ=YEARLY;BYDAY=54MO", "BYDAY=54MO" + inYear},
		{"FREQ=YEARLY;BYDAY=" + numbered(11), "BYDAY has at most 10 items, not 11"},
		// rrule-go would want a day that is both a Thursday and the first Friday.
		{"FREQ=MONTHLY;BYDAY=TH,1FR", "BYDAY cannot mix plain days (TH) with numbered ones (1FR); use one kind (every TH of a month is 1TH,2TH,3TH,4TH,5TH)"},
		{"FREQ=YEARLY;BYDAY=-1SU,MO", "BYDAY cannot mix plain days (MO) with numbered ones (-1SU); use one kind"},
		// BYMONTHDAY.
		{"FREQ=MONTHLY;BYMONTHDAY=0", monthDay + "0"},
		{"FREQ=MONTHLY;BYMONTHDAY=32", monthDay + "32"},
		{"FREQ=MONTHLY;BYMONTHDAY=-32", monthDay + "-32"},
		{"FREQ=MONTHLY;BYMONTHDAY=-0", monthDay + "-0"},
		{"FREQ=MONTHLY;BYMONTHDAY=LAST", monthDay + "LAST"},
		{"FREQ=MONTHLY;BYMONTHDAY=1,01", "BYMONTHDAY lists 1 twice"},
		{"FREQ=MONTHLY;BYMONTHDAY=-1,-1", "BYMONTHDAY lists -1 twice"},
		{"FREQ=MONTHLY;BYMONTHDAY=1,,2", `BYMONTHDAY has an empty item (a stray ",")`},
		{"FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY cannot be used with FREQ=WEEKLY (RFC 5545)"},
		// BYMONTH.
		{"FREQ=YEARLY;BYMONTH=0", "BYMONTH months are 1 to 12, not 0"},
		{"FREQ=YEARLY;BYMONTH=13", "BYMONTH months are 1 to 12, not 13"},
		{"FREQ=YEARLY;BYMONTH=-1", "BYMONTH months are 1 to 12, not -1"},
		{"FREQ=YEARLY;BYMONTH=JAN", "BYMONTH months are 1 to 12, not JAN"},
		{"FREQ=YEARLY;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12,1", "BYMONTH has at most 12 items, not 13"},
		// BYSETPOS.
		{"FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0", "BYSETPOS positions in a MONTHLY rule are 1 to 31, or -31 to -1 counting from the end, not 0"},
		{"FREQ=MONTHLY;BYDAY=MO;BYSETPOS=32", "BYSETPOS positions in a MONTHLY rule are 1 to 31, or -31 to -1 counting from the end, not 32"},
		{"FREQ=WEEKLY;BYDAY=MO;BYSETPOS=-8", "BYSETPOS positions in a WEEKLY rule are 1 to 7, or -7 to -1 counting from the end, not -8"},
		{"FREQ=YEARLY;BYDAY=MO;BYSETPOS=367", "BYSETPOS positions in a YEARLY rule are 1 to 366, or -366 to -1 counting from the end, not 367"},
		{"FREQ=DAILY;BYMONTH=1;BYSETPOS=1", "BYSETPOS picks among the days of one period, and a DAILY rule's period is a single day; leave BYSETPOS out"},
		{"FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS needs BYDAY, BYMONTHDAY or BYMONTH to pick from"},
		{"FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1,-1,1", "BYSETPOS lists 1 twice"},
		{"FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1,2,3,4,5,6", "BYSETPOS has at most 5 items, not 6"},
		// WKST.
		{"FREQ=WEEKLY;WKST=XX", "WKST must be one of MO, TU, WE, TH, FR, SA or SU, not XX"},
		{"FREQ=WEEKLY;WKST=1MO", "WKST must be one of MO, TU, WE, TH, FR, SA or SU, not 1MO"},
	} {
		r, err := Parse(tc.in)
		var e *Error
		switch {
		case err == nil:
			t.Errorf("Parse(%q) = %q, want the error %q", tc.in, r, tc.want)
		case !errors.As(err, &e):
			t.Errorf("Parse(%q): %T %v, want an *Error", tc.in, err, err)
		case e.Message != tc.want:
			t.Errorf("Parse(%q):\n got %s\nwant %s", tc.in, e.Message, tc.want)
		}
	}
}

// numbered lists the first n numbered Mondays: 1MO,2MO,...
func numbered(n int) string {
	days := make([]string, n)
	for i := range days {
		days[i] = strconv.Itoa(i+1) + "MO"
	}
	return strings.Join(days, ",")
}
