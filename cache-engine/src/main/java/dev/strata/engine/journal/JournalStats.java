package dev.strata.engine.journal;

/**
 * Counters of one journal since it was opened, for benchmarks ("journal writes and fdatasyncs").
 *
 * @param recordsAppended records assigned a sequence number by {@code append} (after splitting)
 * @param entriesWritten  entries (group commits) written to segment files
 * @param bytesWritten    bytes of entries written (headers, data and padding)
 * @param fsyncs          {@code force(false)} calls on segment files
 * @param spaceWaits      times the writer had to wait for {@code releaseThrough} to free a segment
 * @param stagingWaits    times an appender waited for a staging buffer (both full)
 * @param segmentsCreated segment files created (preallocated)
 * @param segmentsRecycled segment files recycled after release
 */
public record JournalStats(
        long recordsAppended,
        long entriesWritten,
        long bytesWritten,
        long fsyncs,
        long spaceWaits,
        long stagingWaits,
        long segmentsCreated,
        long segmentsRecycled) {
}
