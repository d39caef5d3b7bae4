package pseudonym_test

import (
	"fmt"

	"github.com/twitchd/twitchd/internal/pseudonym"
)

// ExampleKey_Subject turns a name into the pseudonym twitchd stores,
// the same every time for the same key.
func ExampleKey_Subject() {
	k, err := pseudonym.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		panic(err)
	}
	fmt.Println(k.Subject("alice"))
	fmt.Println(pseudonym.Key{}.Subject("alice")) // no key: unchanged
	// Output:
	// p-433deb45467e4e53
	// alice
}
