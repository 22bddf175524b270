package dev.strata.engine.gc;

/**
 * What one garbage collection pass did.
 *
 * @param objectsCompacted objects whose live data was copied into GC objects
 * @param bytesCopied      live data copied
 * @param gcObjectsWritten GC objects committed (uploaded in the background)
 * @param objectsRetired   objects nothing points into any more, now waiting to be deleted
 * @param objectsDeleted   objects deleted from the bucket by this pass
 * @param bytesDeleted     their data bytes
 * @param objectsWaiting   retired objects still waiting (for checkpoints, the grace period or a snapshot)
 */
public record GcReport(int objectsCompacted, long bytesCopied, int gcObjectsWritten, int objectsRetired, int objectsDeleted,
        long bytesDeleted, int objectsWaiting) {}
