package tasks

import (
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"taskapi/gen/db"
)

// The list page is most of what the API sends, and encoding/json was a large share of the
// server's CPU on it under load (reflection, a MarshalJSON call per time and UUID; measured in
// bench/RESULTS.md). Single tasks are answered by the generated responses. pageJSON
// writes the rows straight from the database as the JSON that encoding/json writes for the
// api.TaskPage that ToAPI would make of them, field for field, without building that page
// first. The HTTP tests check every page against openapi.yaml and
// TestPageEncodingMatchesEncodingJSON against encoding/json of ToAPI's tasks, so the two
// cannot drift apart.

// pageJSON is the 200 answer of ListTasks, encoded by appendPage.
type pageJSON page

// jsonBuffers recycles the encoding buffers (a page of 20 tasks is several KiB): a fresh one
// per request was most of the bytes the list allocated, and so of its garbage collection.
var jsonBuffers = sync.Pool{New: func() any { return new([]byte) }}

// VisitListTasksResponse implements api.ListTasksResponseObject.
func (p pageJSON) VisitListTasksResponse(w http.ResponseWriter) error { return p.write(w) }

// VisitListRemindersResponse implements api.ListRemindersResponseObject: the same page.
func (p pageJSON) VisitListRemindersResponse(w http.ResponseWriter) error { return p.write(w) }

func (p pageJSON) write(w http.ResponseWriter) error {
	buf := jsonBuffers.Get().(*[]byte)
	defer jsonBuffers.Put(buf)
	*buf = appendPage((*buf)[:0], page(p))
	return writeJSON(w, http.StatusOK, *buf)
}

// writeJSON sends body as a JSON answer. The body is copied or sent before Write returns,
// so its buffer can go back to the pool afterwards.
func writeJSON(w http.ResponseWriter, status int, body []byte) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

func appendPage(b []byte, p page) []byte {
	b = append(b, `{"items":[`...)
	for i, t := range p.rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTask(b, t)
	}
	b = append(b, `],"next_cursor":`...)
	if p.next == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, *p.next)
	}
	return append(b, "}\n"...) // encoding/json's Encoder ends with a newline too
}

// appendTask writes ToAPI(t) in api.Task's field order, as encoding/json does.
func appendTask(b []byte, t *db.Task) []byte {
	b = append(b, `{"completed":`...)
	b = strconv.AppendBool(b, t.Completed)
	b = append(b, `,"completed_at":`...)
	b = appendTimePtr(b, t.CompletedAt)
	b = append(b, `,"created_at":`...)
	b = appendTime(b, t.CreatedAt)
	b = append(b, `,"description":`...)
	if t.Description == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, *t.Description)
	}
	b = append(b, `,"due_date":`...)
	b = appendTimePtr(b, t.DueDate)
	b = append(b, `,"id":`...)
	b = appendUUID(b, t.ID)
	b = append(b, `,"priority":`...)
	b = appendString(b, string(t.Priority))
	b = append(b, `,"recurrence":`...)
	if t.Recurrence == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, *t.Recurrence)
	}
	b = append(b, `,"remind_at":`...)
	b = appendTimePtr(b, t.RemindAt)
	b = append(b, `,"series_id":`...)
	if t.SeriesID == nil {
		b = append(b, "null"...)
	} else {
		b = appendUUID(b, *t.SeriesID)
	}
	b = append(b, `,"tags":`...)
	if t.Tags == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, tag := range t.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, tag)
		}
		b = append(b, ']')
	}
	b = append(b, `,"timezone":`...)
	b = appendString(b, t.Timezone)
	b = append(b, `,"title":`...)
	b = appendString(b, t.Title)
	b = append(b, `,"updated_at":`...)
	b = appendTime(b, t.UpdatedAt)
	return append(b, '}')
}

// appendTime writes t in UTC, as ToAPI does.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func appendTimePtr(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	return appendTime(b, *t)
}

// appendUUID writes id in its canonical 8-4-4-4-12 form.
func appendUUID(b []byte, id uuid.UUID) []byte {
	b = append(b, '"')
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hex[c>>4], hex[c&0xf])
	}
	return append(b, '"')
}

const hex = "0123456789abcdef"

// appendString writes s as a JSON string the way encoding/json does: <, >, & and U+2028/
// U+2029 escaped (safe inside HTML), control characters escaped, invalid UTF-8 replaced.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
