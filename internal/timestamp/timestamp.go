// Package timestamp holds the OpenTSDB timestamp rules that the client, the
// fake server and the command share: an integer timestamp below 2^32 is
// Unix seconds, one of 2^32 or more is Unix milliseconds, and none may be
// above MaxMillis.
package timestamp

// MaxMillis is the largest timestamp OpenTSDB (and so Apptuit) accepts, in
// Unix milliseconds: 2286-11-20T17:46:39.999Z.
const MaxMillis = 9999999999999

// MinMillis is the smallest value read as milliseconds: 2^32. A value below
// it is read as seconds, so a time before 1970-02-19T17:02:47.296Z cannot
// be written in milliseconds, and a time from 2106-02-07T06:28:16Z on
// cannot be written in seconds.
const MinMillis = 1 << 32
