// Package pki makes throwaway certificate authorities and the certificates
// they sign, for tests and chaos runs on loopback. It is not a way to run
// a production cluster's PKI: keys live in memory and in plain PEM files,
// and every certificate names 127.0.0.1.
package pki
