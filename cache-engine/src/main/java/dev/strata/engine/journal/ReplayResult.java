package dev.strata.engine.journal;

import java.nio.file.Path;
import java.util.List;

/**
 * The outcome of {@link JournalReplayer#replay}.
 *
 * @param lastSeq          the last valid sequence number, or {@code fromSeqExclusive} if the
 *                         journal has nothing after it
 * @param firstSeq         the first record of the valid chain (delivered or not), 0 if none
 * @param chainLastSeq     the last record of the valid chain, 0 if none (may be below fromSeqExclusive)
 * @param recordsReplayed  records handed to the consumer
 * @param entriesReplayed  entries of the chain verified
 * @param stopReason       why the chain ended
 * @param stopSegment      the segment file where the chain's valid data ends (null if none)
 * @param stopOffset       byte offset in it
 * @param detail           what was found there, and whether a later segment failed to continue
 * @param chainBroken      whether a later segment of the volume did not continue the chain
 *                         (records were lost, or a segment is missing)
 * @param segments         every segment file seen, in id order
 */
public record ReplayResult(
        long lastSeq,
        long firstSeq,
        long chainLastSeq,
        long recordsReplayed,
        long entriesReplayed,
        StopReason stopReason,
        Path stopSegment,
        long stopOffset,
        String detail,
        boolean chainBroken,
        List<SegmentSummary> segments) {

    public ReplayResult {
        segments = List.copyOf(segments);
    }

    public int segmentsSeen() {
        return segments.size();
    }

    /** Segments of other volumes found in the directory. */
    public List<SegmentSummary> foreignSegments() {
        return segments.stream().filter(s -> s.role() == SegmentSummary.Role.FOREIGN).toList();
    }

    /** Whether the chain starts after {@code fromSeqExclusive + 1}: records the caller needed are not in the journal. */
    public boolean missingBefore(long fromSeqExclusive) {
        return firstSeq > fromSeqExclusive + 1;
    }

    /** One line for logs. */
    public String describe() {
        return "last seq " + lastSeq + ", " + recordsReplayed + " records in " + entriesReplayed + " entries from "
                + segments.size() + " segments; stopped at "
                + (stopSegment == null ? "-" : stopSegment.getFileName() + " offset " + stopOffset) + ": " + stopReason
                + (detail == null || detail.isEmpty() ? "" : " (" + detail + ")");
    }
}
