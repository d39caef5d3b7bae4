// Package all registers every decoder with package decode. Import it for
// its side effect.
package all
