package dev.strata.engine.journal;

/** Sizes shared by the on-disk codecs; see docs/journal.md. */
final class JournalFormat {
    /** The unit of alignment: header blocks, entry sizes and O_DIRECT transfers. */
    static final int BLOCK = 4096;
    /** The unit of LBAs and lengths in records. */
    static final int SECTOR = 512;

    private JournalFormat() {
    }

    static long roundUpToBlock(long bytes) {
        return (bytes + BLOCK - 1) & -BLOCK;
    }

    /** A direct buffer of {@code bytes} whose address is 4096-aligned, as O_DIRECT requires. */
    static java.nio.ByteBuffer alignedBuffer(int bytes) {
        return dev.strata.engine.util.HugePageBuffers.onOrdinaryPages(bytes); // BLOCK = 4096: a page
    }

    static boolean allZero(java.nio.ByteBuffer block) {
        for (int i = 0; i < block.limit(); i += 8) {
            if (block.getLong(i) != 0) {
                return false;
            }
        }
        return true;
    }
}
