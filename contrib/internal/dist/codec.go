package dist

import "encoding/json"

// Codec turns an event's values into the bytes its engine stores, and back.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// JSON is the default codec: encoding/json.
var JSON Codec = jsonCodec{}

type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// Decode decodes data into a T with c.
func Decode[T any](c Codec, data []byte) (T, error) {
	var v T
	err := c.Unmarshal(data, &v)
	return v, err
}
