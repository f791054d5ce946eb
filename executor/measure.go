package executor

import (
	"errors"
	"reflect"
	"time"
)

// errTooLarge and errTooDeep are what measure finds.
var (
	errTooLarge = errors.New("too large")
	errTooDeep  = errors.New("nested too deeply")
)

// slotBytes is what measure charges for each element, key and scalar at
// least: about a JSON separator plus the interface slot that holds it, so
// that a walk over a value visits at most limit/slotBytes elements.
const slotBytes = 8

// measure returns about how many bytes v takes as JSON, stopping as soon
// as the count passes limit (errTooLarge) or the nesting passes
// maxValueDepth (errTooDeep). Values built by expressions may share parts
// (a list holding the same big string a thousand times), so the size of
// the output of toJSON, join or a checkpoint is not bounded by the memory
// the value occupies; measuring first, with the early stop, bounds both
// the walk and what follows it.
func measure(v any, limit int64) (int64, error) {
	m := measurer{limit: limit}
	err := m.walk(v, 0)
	return m.size, err
}

type measurer struct {
	size  int64
	limit int64
	// indent is charged per element and nesting level, for output that
	// indents like toJSON.
	indent int64
}

func (m *measurer) add(n int64) error {
	m.size += n
	if m.size > m.limit {
		return errTooLarge
	}
	return nil
}

func (m *measurer) walk(v any, depth int) error {
	if depth > maxValueDepth {
		return errTooDeep
	}
	if m.indent > 0 {
		if err := m.add(m.indent * int64(depth)); err != nil {
			return err
		}
	}
	switch x := v.(type) {
	case nil, bool, int, int64, float64, time.Time, time.Duration:
		return m.add(slotBytes)
	case string:
		return m.add(int64(len(x)) + slotBytes)
	case []any:
		if err := m.add(slotBytes); err != nil {
			return err
		}
		for _, e := range x {
			if err := m.walk(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		if err := m.add(slotBytes); err != nil {
			return err
		}
		for k, e := range x {
			if err := m.add(int64(len(k))); err != nil {
				return err
			}
			if err := m.walk(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return m.walkReflect(reflect.ValueOf(v), depth)
}

// walkReflect measures the other shapes expressions produce: typed
// slices ([]int, []string), maps with other key types (groupBy) and
// structs or pointers from Go callers.
func (m *measurer) walkReflect(v reflect.Value, depth int) error {
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		if err := m.add(slotBytes); err != nil {
			return err
		}
		for i := range v.Len() {
			if err := m.walk(v.Index(i).Interface(), depth+1); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if err := m.add(slotBytes); err != nil {
			return err
		}
		it := v.MapRange()
		for it.Next() {
			if err := m.walk(it.Key().Interface(), depth+1); err != nil {
				return err
			}
			if err := m.walk(it.Value().Interface(), depth+1); err != nil {
				return err
			}
		}
		return nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return m.add(slotBytes)
		}
		return m.walkReflect(v.Elem(), depth+1)
	case reflect.Struct:
		if err := m.add(slotBytes); err != nil {
			return err
		}
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				continue
			}
			if err := m.walk(v.Field(i).Interface(), depth+1); err != nil {
				return err
			}
		}
		return nil
	case reflect.String:
		return m.add(int64(v.Len()) + slotBytes)
	default:
		return m.add(slotBytes)
	}
}
