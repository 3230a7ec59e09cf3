package tasks

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"taskapi/gen/db"
)

// taskOf copies every column: a column added to tasks and not copied fails here, not silently.
func TestTaskOfCopiesEveryColumn(t *testing.T) {
	var row db.CompleteOccurrenceRow
	v := reflect.ValueOf(&row).Elem()
	for i := range v.NumField() {
		fill(t, v.Field(i), i+1)
	}
	task := reflect.ValueOf(taskOf(&row)).Elem()
	for i := range task.NumField() {
		name := task.Type().Field(i).Name
		if want := v.FieldByName(name); !want.IsValid() || !reflect.DeepEqual(task.Field(i).Interface(), want.Interface()) {
			t.Errorf("taskOf does not copy %s", name)
		}
	}
}

// fill sets f to a value that is not its zero value and differs from field to field.
func fill(t *testing.T, f reflect.Value, n int) {
	t.Helper()
	switch p := f.Addr().Interface().(type) {
	case *uuid.UUID:
		p[0] = byte(n)
	case **uuid.UUID:
		id := uuid.UUID{byte(n)}
		*p = &id
	case *string:
		*p = string(rune('a' + n))
	case **string:
		s := string(rune('a' + n))
		*p = &s
	case *bool:
		*p = true
	case *time.Time:
		*p = time.Unix(int64(n), 0)
	case **time.Time:
		ts := time.Unix(int64(n), 0)
		*p = &ts
	case *[]string:
		*p = []string{string(rune('a' + n))}
	case *[]time.Time:
		*p = []time.Time{time.Unix(int64(n), 0)}
	case *int64:
		*p = int64(n)
	case *int32:
		*p = int32(n)
	case *db.TaskPriority:
		*p = db.TaskPriorityHigh
	default:
		t.Fatalf("fill: no value for %s", f.Type())
	}
}
