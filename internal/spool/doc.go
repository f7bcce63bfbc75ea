// Package spool is a durable, size-bounded FIFO of records on disk: what the
// reporter keeps there when the backend cannot take its points, so that they
// survive the process (a deploy, an OOM kill, a crash) and are delivered by
// the next one. It uses the standard library only.
//
// # Use
//
// Open locks a directory and finds the records left by earlier processes.
// Append adds a record (an opaque payload and the number of points it
// carries). Next reads records oldest first; Ack marks every record read up
// to one as delivered, durably, so that it is never read again, by this
// process or a later one; Rewind makes Next start again at the oldest record
// not acknowledged (after a failed send). Close releases the lock.
//
// # On-disk format
//
// The directory holds segment files named by a 16-digit hexadecimal
// sequence number ("000000000000002a.seg"), a cursor file ("cursor") and a
// lock file ("lock"); other files are left alone. A segment starts with the
// 8 bytes "apspool1" and holds records back to back, each (integers little
// endian):
//
//	magic  uint32  0x4c4f5053 ("SPOL")
//	clen   uint32  length of the compressed payload
//	rawlen uint32  length of the payload before compression (at most MaxRecordBytes)
//	points uint32  the points the record carries (for accounting)
//	hcrc   uint32  CRC-32C (Castagnoli) of the 16 bytes above
//	data   [clen]  the payload, compressed with DEFLATE (RFC 1951) at BestSpeed
//	pcrc   uint32  CRC-32C of clen, rawlen, points (12 bytes) followed by data
//
// A record is read only when both checksums match and data inflates to
// exactly rawlen bytes; anything else is corrupt. A segment is appended to by
// one process only (Open always starts a new one), is never rewritten, and
// is deleted once all its records are acknowledged, or when it is dropped
// to respect the size limit.
//
// The cursor file holds the position after the last record acknowledged: the
// 8 bytes "apcursr1", the segment's sequence number and the offset (uint64
// each) and a CRC-32C of the 24 bytes before it. It is replaced atomically
// (written to "cursor.tmp", then renamed over "cursor").
//
// # Durability
//
// With SyncEveryAppend (the default) Append returns after the segment file
// (and, for a new segment, the directory) is fsynced, and Ack after the
// cursor file and the directory are: a record Append accepted survives a
// crash of the process and of the machine, and a record acknowledged is not
// read again after either. The cost is one fsync per Append and two per Ack
// (a few milliseconds each on a disk, more on a busy one). With SyncNever,
// nothing is fsynced: a record Append accepted is in the kernel's page cache
// and survives the death of the process (SIGKILL included) but not power
// loss, which may lose the records written during the last seconds before
// it (Linux writes dirty pages back within about 30 s) and may leave torn
// records behind; acknowledged records may then be read again.
//
// # Corruption
//
// A torn record (the process or machine died while writing it) or a record
// whose bytes have changed fails its checksums: Next skips it, counts it in
// Stats (CorruptRecords, CorruptBytes, and CorruptPoints when its header is
// intact, so that the number of points it carried is known) and resumes at
// the next record whose header checksum matches, scanning forward for the
// magic number. Corrupt bytes are never returned, and no input makes the
// reader panic or allocate more than MaxRecordBytes plus the record's length.
//
// # Delivery guarantees
//
// Records are read in the order they were appended. Within one process, a
// record acknowledged is never read again. Across processes, the guarantee
// is at-least-once: a record delivered but not yet acknowledged when the
// process died (the backend stored it, then the process was killed before
// Ack wrote the cursor) is read again by the next process, so its points
// are sent twice; with SyncNever, power loss may also undo acknowledgements.
// A record Append accepted is lost only when the size limit drops it (counted
// in Stats.DroppedPoints and returned by Append), when its bytes are corrupt,
// or, with SyncNever, on power loss.
//
// # Size limit
//
// The segment files never add up to more than Options.MaxBytes: before a
// record is appended, the oldest segments are deleted until it fits, and the
// points they held that were not acknowledged are counted as dropped. Since
// whole segments are dropped, a full spool holds between MaxBytes minus one
// segment (Options.SegmentBytes) and MaxBytes. The cursor and lock files
// (a few dozen bytes) are not counted. A record larger than the limit allows
// is refused with ErrTooLarge.
//
// # Locking
//
// Open takes an exclusive lock on the "lock" file: on Linux, macOS and the
// BSDs with flock(2), which the kernel releases when the process dies, so a
// crashed process leaves no stale lock. A second Open of the same directory,
// by this process or another, fails with an error matching ErrLocked. On
// other systems (Windows, Plan 9, ...) the lock is the file's existence,
// created with O_EXCL and removed by Close: a process that died without
// Close leaves it behind, and Open then fails with ErrLocked, naming the
// file to remove once no process uses the directory.
//
// A Spool is safe for concurrent use; its methods hold one mutex.
package spool
