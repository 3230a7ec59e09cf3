package postgres

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// pgx plans how to scan each column afresh for every query, and for the types sqlc gives
// task rows (google/uuid's UUID, *string and *time.Time for nullable columns) it takes
// general paths: sql.Scanner, which formats every id as text and parses it back, and
// reflection for the pointers. A list page scans 21 rows of 12 columns, so the codecs below
// answer those targets directly, in the binary format, with plans made once. Every other
// target falls through to pgx's own codec.

// registerTypes is run on every new connection.
func registerTypes(m *pgtype.Map) {
	m.RegisterType(&pgtype.Type{Name: "uuid", OID: pgtype.UUIDOID, Codec: uuidCodec{}})
	m.RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID, Codec: timestamptzCodec{&pgtype.TimestamptzCodec{}}})
	m.RegisterType(&pgtype.Type{Name: "text", OID: pgtype.TextOID, Codec: textCodec{}})
	if t, ok := m.TypeForOID(pgtype.TextArrayOID); ok {
		m.RegisterType(&pgtype.Type{Name: t.Name, OID: t.OID, Codec: textArrayCodec{t.Codec}})
	}
}

type uuidCodec struct{ pgtype.UUIDCodec }

func (c uuidCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if _, ok := target.(*uuid.UUID); ok && format == pgtype.BinaryFormatCode {
		return scanUUID{}
	}
	return c.UUIDCodec.PlanScan(m, oid, format, target)
}

func (c uuidCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if format == pgtype.BinaryFormatCode {
		switch value.(type) {
		case uuid.UUID:
			return encodeUUID{}
		case *uuid.UUID: // sqlc's nullable parameters (a cursor's id); pgx would take driver.Valuer: text
			return encodeUUIDPtr{}
		}
	}
	return c.UUIDCodec.PlanEncode(m, oid, format, value)
}

type scanUUID struct{}

func (scanUUID) Scan(src []byte, target any) error {
	if src == nil { // a nullable column scans into **uuid.UUID, which pgx handles before this
		return fmt.Errorf("cannot scan NULL into %T", target)
	}
	if len(src) != len(uuid.UUID{}) {
		return fmt.Errorf("invalid length for uuid: %d", len(src))
	}
	copy(target.(*uuid.UUID)[:], src)
	return nil
}

type encodeUUID struct{}

func (encodeUUID) Encode(value any, buf []byte) ([]byte, error) {
	id := value.(uuid.UUID)
	return append(buf, id[:]...), nil
}

type encodeUUIDPtr struct{}

func (encodeUUIDPtr) Encode(value any, buf []byte) ([]byte, error) {
	id := value.(*uuid.UUID)
	if id == nil {
		return nil, nil // NULL
	}
	return append(buf, id[:]...), nil
}

type timestamptzCodec struct{ *pgtype.TimestamptzCodec }

func (c timestamptzCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if format == pgtype.BinaryFormatCode {
		switch target.(type) {
		case *time.Time:
			return scanTime{}
		case **time.Time:
			return scanNullableTime{}
		}
	}
	return c.TimestamptzCodec.PlanScan(m, oid, format, target)
}

type scanTime struct{}

func (scanTime) Scan(src []byte, target any) error {
	if src == nil {
		return fmt.Errorf("cannot scan NULL into %T", target)
	}
	t, err := decodeTimestamptz(src)
	if err != nil {
		return err
	}
	*target.(*time.Time) = t
	return nil
}

type scanNullableTime struct{}

func (scanNullableTime) Scan(src []byte, target any) error {
	p := target.(**time.Time)
	if src == nil {
		*p = nil
		return nil
	}
	t, err := decodeTimestamptz(src)
	if err != nil {
		return err
	}
	*p = &t
	return nil
}

// decodeTimestamptz reads PostgreSQL's binary timestamptz, microseconds since 2000-01-01 UTC,
// as pgx does: a time.Time in the process's zone, and infinity refused (no time.Time holds it).
func decodeTimestamptz(src []byte) (time.Time, error) {
	if len(src) != 8 {
		return time.Time{}, fmt.Errorf("invalid length for timestamptz: %d", len(src))
	}
	micros := int64(binary.BigEndian.Uint64(src))
	if micros == math.MaxInt64 || micros == math.MinInt64 {
		return time.Time{}, fmt.Errorf("cannot scan an infinite timestamptz into time.Time")
	}
	const unixAtY2K = 946684800
	return time.Unix(unixAtY2K+micros/1_000_000, micros%1_000_000*1000), nil
}

type textCodec struct{ pgtype.TextCodec }

func (c textCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	// (*string never gets here: pgx answers it before it looks for a codec.) Text is the
	// same bytes in both formats.
	if _, ok := target.(**string); ok {
		return scanNullableText{}
	}
	return c.TextCodec.PlanScan(m, oid, format, target)
}

type scanNullableText struct{}

func (scanNullableText) Scan(src []byte, target any) error {
	p := target.(**string)
	if src == nil {
		*p = nil
		return nil
	}
	s := string(src)
	*p = &s
	return nil
}

type textArrayCodec struct{ pgtype.Codec }

func (c textArrayCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if _, ok := target.(*[]string); ok && format == pgtype.BinaryFormatCode {
		return scanTextArray{}
	}
	return c.Codec.PlanScan(m, oid, format, target)
}

type scanTextArray struct{}

// Scan reads PostgreSQL's binary array (array_send) of text into a []string as pgx does:
// NULL is a nil slice, an empty array an empty one, several dimensions are flattened, and a
// NULL element is an error.
func (scanTextArray) Scan(src []byte, target any) error {
	p := target.(*[]string)
	if src == nil {
		*p = nil
		return nil
	}
	bad := func(what string) error { return fmt.Errorf("invalid binary text[]: %s", what) }
	if len(src) < 12 {
		return bad("short header")
	}
	dims := int(int32(binary.BigEndian.Uint32(src)))
	src = src[12:] // dimensions, has-nulls flag, element type
	if dims < 0 || len(src) < dims*8 {
		return bad("dimensions")
	}
	n := 0
	if dims > 0 {
		n = 1
	}
	for i := range dims {
		size := int(int32(binary.BigEndian.Uint32(src[i*8:])))
		if size < 0 || (size > 0 && n > len(src)/4/size) { // every element takes at least 4 bytes
			return bad("dimension size")
		}
		n *= size
	}
	src = src[dims*8:]
	if n > len(src)/4 {
		return bad("more elements than bytes")
	}
	out := make([]string, n)
	for i := range out {
		if len(src) < 4 {
			return bad("element length")
		}
		size := int32(binary.BigEndian.Uint32(src))
		src = src[4:]
		if size < 0 {
			return fmt.Errorf("cannot scan NULL into *string (array element %d)", i)
		}
		if int(size) > len(src) {
			return bad("element")
		}
		out[i] = string(src[:size])
		src = src[size:]
	}
	if len(src) != 0 {
		return bad("trailing bytes")
	}
	*p = out
	return nil
}
