package strongroom_test

import (
	"errors"
	"fmt"

	"strongroom.example/strongroom"
)

func Example() {
	secret := []byte("correct horse battery staple")
	buf, err := strongroom.BufferFromBytes(secret) // copies the bytes in, and wipes secret
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("source wiped:", secret[0] == 0)

	// The secret is lent in place, never copied into Go memory: p is valid only inside.
	err = buf.With(func(p []byte) {
		fmt.Println("length:", len(p))
	})
	fmt.Println("with:", err)

	fmt.Println("destroy:", buf.Destroy())
	_, err = buf.Len()
	fmt.Println("after destroy:", errors.Is(err, strongroom.ErrInvalidHandle))
	// Output:
	// source wiped: true
	// length: 28
	// with: <nil>
	// destroy: <nil>
	// after destroy: true
}
