package dev.strata.engine.journal;

import java.nio.file.Path;

/**
 * What a scan found in one segment file.
 *
 * @param path      the file
 * @param segmentId the id from the file name
 * @param volumeId  the volume in its header, or null if the header is invalid
 * @param role      how the segment took part in the replay
 * @param firstSeq  first record of the chain in this segment, 0 if none
 * @param lastSeq   last record of the chain in this segment, 0 if none
 * @param entries   chain entries in this segment
 * @param endOffset byte offset where reading this segment stopped
 * @param endReason why it stopped there
 * @param detail    human-readable detail of the end
 */
public record SegmentSummary(
        Path path,
        long segmentId,
        String volumeId,
        Role role,
        long firstSeq,
        long lastSeq,
        long entries,
        long endOffset,
        StopReason endReason,
        String detail) {

    /** How a segment took part in a replay. */
    public enum Role {
        /** Holds records of the valid chain. */
        CHAIN,
        /** Ours, valid header, but no valid record of the chain (new, recycled, or its first entry is bad). */
        EMPTY,
        /** The header could not be read or is invalid. */
        INVALID_HEADER,
        /** Belongs to another volume: reported, never replayed or touched. */
        FOREIGN,
        /** Comes after the point where the chain broke: nothing in it is trusted. */
        AFTER_BREAK
    }
}
