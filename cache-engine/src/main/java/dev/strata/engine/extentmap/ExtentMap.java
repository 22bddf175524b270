package dev.strata.engine.extentmap;

import java.io.DataInput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The in-memory map of a volume: which location holds each mapped LBA range. LBAs and lengths
 * are 512-byte sectors; locations are opaque {@code long}s (see {@link Locations}) except that
 * sector {@code lba + k} of an extent at {@code lba} with location {@code L} lives at
 * {@code L + k}.
 *
 * <p>Structure (details in {@code cache-engine/docs/extent-map.md}): a two-level B+-tree-like
 * layout. Extents live in {@link Leaf leaves} of at most {@code leafMax} (512) packed 16-byte
 * entries; a sorted index holds each leaf's first LBA in a primitive {@code long[]} so searches
 * never box. Every leaf but a lone one holds at least {@code leafMax / 4} entries.
 *
 * <p>Canonical form: entries are sorted, non-overlapping, non-empty, never span two objects and
 * are at most {@link #MAX_ENTRY_SECTORS} long (longer puts are stored as several entries).
 * Neighbours whose LBAs and locations are both contiguous inside one object are merged, so a
 * sequential writer costs one entry.
 *
 * <p><b>Not thread-safe.</b> The volume guards each map with its own lock; visitors and
 * listeners run under that lock and must not call back into the map to modify it.
 */
public final class ExtentMap {

    /** The location {@link #lookup} reports for a hole. */
    public static final long UNMAPPED = -1L;

    /** First LBA past the addressable space: 2^40 sectors (512 TiB), the 40 LBA bits of an entry. */
    public static final long MAX_LBA = 1L << 40;

    /** Longest single stored entry: the 24 length bits of an entry. */
    public static final long MAX_ENTRY_SECTORS = (1L << 24) - 1;

    static final int DEFAULT_LEAF_MAX = 512;

    private final int leafMax;
    private final int leafMin;
    private final long maxEntrySectors;

    /** firstLbas[i] == leaves[i].firstLba() for every i < leafCount; searched without boxing. */
    private long[] firstLbas = new long[4];
    private Leaf[] leaves = new Leaf[4];
    private int leafCount;
    private long extentCount;

    public ExtentMap() {
        this(DEFAULT_LEAF_MAX, MAX_ENTRY_SECTORS);
    }

    /** Small leaves and entry lengths let tests drive every split and merge path over a tiny address space. */
    ExtentMap(int leafMax, long maxEntrySectors) {
        if (leafMax < 4 || maxEntrySectors < 1 || maxEntrySectors > MAX_ENTRY_SECTORS) {
            throw new IllegalArgumentException("leafMax " + leafMax + ", maxEntrySectors " + maxEntrySectors);
        }
        this.leafMax = leafMax;
        this.leafMin = leafMax / 4;
        this.maxEntrySectors = maxEntrySectors;
    }

    // ---------------------------------------------------------------- public operations

    /**
     * Maps {@code [lba, lba + sectors)} to {@code location ..}, overwriting whatever was there;
     * every overwritten piece of an older extent goes to {@code displaced} (may be null).
     */
    public void put(long lba, long sectors, long location, DisplacedListener displaced) {
        checkRange(lba, sectors);
        if (location < 0 || location > Long.MAX_VALUE - sectors) {
            throw new IllegalArgumentException("location out of range: " + location);
        }
        if (sectors == 0) {
            return;
        }
        cut(lba, lba + sectors, displaced);
        remergeCutEdges(lba, lba + sectors);
        // Chunk at object boundaries (so GC accounting and reads never straddle objects) and at
        // the entry length limit; each chunk lands in the hole the cut just made.
        long done = 0;
        while (done < sectors) {
            long loc = location + done;
            long n = Math.min(Math.min(sectors - done, maxEntrySectors), Locations.sectorsLeftInObject(loc));
            insertIntoHole(lba + done, n, loc);
            done += n;
        }
    }

    /** Unmaps {@code [lba, lba + sectors)} (trim, write-zeroes); every unmapped piece goes to {@code displaced}. */
    public void remove(long lba, long sectors, DisplacedListener displaced) {
        checkRange(lba, sectors);
        if (sectors > 0) {
            cut(lba, lba + sectors, displaced);
            remergeCutEdges(lba, lba + sectors);
        }
    }

    /**
     * Garbage collection's conditional move: every sector of {@code [lba, lba + sectors)} that
     * still maps where it did when the data was copied (sector {@code k} at {@code source + k})
     * is mapped to {@code target + k}; sectors mapped anywhere else (a newer write, a trim) are
     * left alone. Returns the sectors moved. This is what makes a GC object safe to replay in any
     * order relative to newer writes (docs/gc.md).
     */
    public long moveIfAt(long lba, long sectors, long source, long target, DisplacedListener displaced) {
        checkRange(lba, sectors);
        long[][] found = {new long[8]};
        int[] count = {0};
        lookup(lba, sectors, (runLba, n, loc) -> {
            if (loc != UNMAPPED && loc == source + (runLba - lba)) {
                if (count[0] + 2 > found[0].length) {
                    found[0] = java.util.Arrays.copyOf(found[0], found[0].length * 2);
                }
                found[0][count[0]++] = runLba;
                found[0][count[0]++] = n;
            }
        });
        long moved = 0;
        for (int i = 0; i < count[0]; i += 2) {
            long runLba = found[0][i];
            long n = found[0][i + 1];
            put(runLba, n, target + (runLba - lba), displaced);
            moved += n;
        }
        return moved;
    }

    /**
     * Visits {@code [lba, lba + sectors)} as ascending, consecutive, maximal runs: two
     * neighbouring runs are never both holes, and never contiguous inside one object.
     */
    public void lookup(long lba, long sectors, RunVisitor v) {
        checkRange(lba, sectors);
        long end = lba + sectors;
        // The pending run is [runStart, cur) with location runLoc (at runStart) or UNMAPPED;
        // it is held back until it cannot grow, which keeps runs maximal without allocating.
        long runStart = lba;
        long runLoc = UNMAPPED;
        long cur = lba;
        if (leafCount > 0 && sectors > 0) {
            int li = leafFor(lba);
            int i = leaves[li].firstEndingAfter(lba);
            scan:
            for (; li < leafCount; li++, i = 0) {
                Leaf leaf = leaves[li];
                for (; i < leaf.size; i++) {
                    long s = leaf.lba(i);
                    if (s >= end) {
                        break scan;
                    }
                    long st = Math.max(s, cur);
                    long e = Math.min(leaf.end(i), end);
                    long loc = leaf.location(i) + (st - s);
                    if (st > cur) { // a hole before this entry
                        if (runLoc != UNMAPPED) {
                            v.run(runStart, cur - runStart, runLoc);
                            runStart = cur;
                            runLoc = UNMAPPED;
                        }
                        cur = st;
                    }
                    if (runLoc == UNMAPPED) {
                        if (cur > runStart) {
                            v.run(runStart, cur - runStart, UNMAPPED);
                        }
                        runStart = st;
                        runLoc = loc;
                    } else if (runLoc + (st - runStart) != loc || Locations.offsetSectors(loc) == 0) {
                        v.run(runStart, cur - runStart, runLoc);
                        runStart = st;
                        runLoc = loc;
                    }
                    cur = e;
                }
            }
        }
        if (cur < end && runLoc != UNMAPPED) {
            v.run(runStart, cur - runStart, runLoc);
            runStart = cur;
            runLoc = UNMAPPED;
        }
        if (end > runStart) {
            v.run(runStart, end - runStart, runLoc);
        }
    }

    /** Number of stored entries (a put longer than {@link #MAX_ENTRY_SECTORS} or spanning objects counts several). */
    public long extentCount() {
        return extentCount;
    }

    /**
     * Estimated heap bytes of the structure: object headers, the index arrays with their slack
     * and every leaf array at its capacity. Assumes compressed oops (heaps under 32 GiB).
     */
    public long memoryBytes() {
        long bytes = 48 // this object
                + Leaf.ARRAY_HEADER_BYTES + 8L * firstLbas.length
                + Leaf.ARRAY_HEADER_BYTES + 4L * leaves.length;
        for (int i = 0; i < leafCount; i++) {
            bytes += leaves[i].memoryBytes();
        }
        return bytes;
    }

    public void clear() {
        firstLbas = new long[4];
        leaves = new Leaf[4];
        leafCount = 0;
        extentCount = 0;
    }

    /** Visits every stored entry in LBA order. */
    public void forEach(ExtentVisitor v) {
        for (int li = 0; li < leafCount; li++) {
            Leaf leaf = leaves[li];
            for (int i = 0; i < leaf.size; i++) {
                v.extent(leaf.lba(i), leaf.length(i), leaf.location(i));
            }
        }
    }

    /**
     * Writes the checkpoint form at the buffer's position: the entry count, then per entry
     * {@code lba << 24 | length} and the location, both big-endian longs ({@link #encodedBytes}
     * must remain). The caller adds framing and a checksum.
     */
    public void writeTo(ByteBuffer out) {
        ExtentMapCodec.write(this, out);
    }

    /** Bytes {@link #writeTo} writes: the count and 16 per entry. */
    public long encodedBytes() {
        return 8 + 16 * extentCount;
    }

    /** Reads what {@link #writeTo} wrote; rejects unsorted, overlapping or malformed entries with an IOException. */
    public static ExtentMap readFrom(DataInput in) throws IOException {
        return ExtentMapCodec.read(in, new ExtentMap());
    }

    /**
     * Asserts the structural invariants (tests call it after every operation): leaves non-empty
     * and within size bounds, index consistent with the leaves, entries sorted, non-overlapping,
     * non-empty, inside one object, canonical (no mergeable neighbours), count correct.
     */
    public void checkInvariants() {
        check(leafCount <= leaves.length && leafCount <= firstLbas.length, "index capacity");
        for (int li = leafCount; li < leaves.length; li++) {
            check(leaves[li] == null, "stale leaf reference at " + li);
        }
        long count = 0;
        long prevEnd = -1;
        long prevLba = 0;
        long prevLen = 0;
        long prevLoc = 0;
        for (int li = 0; li < leafCount; li++) {
            Leaf leaf = leaves[li];
            check(leaf != null, "null leaf " + li);
            check(leaf.size >= 1 && leaf.size <= leafMax, "leaf " + li + " size " + leaf.size);
            check(leafCount == 1 || leaf.size >= leafMin, "leaf " + li + " underfull: " + leaf.size);
            check(leaf.capacity() >= leaf.size, "leaf capacity");
            check(firstLbas[li] == leaf.firstLba(), "index key of leaf " + li + " is " + firstLbas[li]
                    + " but leaf starts at " + leaf.firstLba());
            for (int i = 0; i < leaf.size; i++) {
                long lba = leaf.lba(i);
                long len = leaf.length(i);
                long loc = leaf.location(i);
                String at = "entry " + li + "/" + i + " [" + lba + "+" + len + " @" + loc + "]";
                check(len >= 1 && len <= maxEntrySectors, at + ": bad length");
                check(lba + len <= MAX_LBA, at + ": past MAX_LBA");
                check(lba >= prevEnd, at + ": overlaps or precedes previous end " + prevEnd);
                check(loc >= 0 && Locations.offsetSectors(loc) + len <= Locations.OBJECT_SECTORS,
                        at + ": negative or spans objects");
                check(count == 0 || !mergeable(prevLba, prevLen, prevLoc, lba, len, loc), at + ": not merged with previous");
                prevEnd = lba + len;
                prevLba = lba;
                prevLen = len;
                prevLoc = loc;
                count++;
            }
        }
        check(count == extentCount, "extentCount " + extentCount + " but " + count + " stored");
    }

    // ---------------------------------------------------------------- package-private for the codec

    /** Bulk-load append of an entry that starts at or after every stored extent. */
    void appendSorted(long lba, long len, long loc) {
        if (leafCount > 0) {
            Leaf last = leaves[leafCount - 1];
            int p = last.size - 1;
            if (mergeable(last.lba(p), last.length(p), last.location(p), lba, len, loc)) {
                last.set(p, last.lba(p), last.length(p) + len, last.location(p));
                return;
            }
            // Leaves load 7/8 full: dense, yet the first random insert does not split every one.
            if (last.size < leafMax - leafMax / 8) {
                last.openGap(last.size, 1);
                last.set(p + 1, lba, len, loc);
                extentCount++;
                return;
            }
        }
        Leaf leaf = new Leaf(leafMax - leafMax / 8);
        leaf.set(0, lba, len, loc);
        leaf.size = 1;
        insertLeaf(leafCount, leaf);
        extentCount++;
    }

    /** Ends a bulk load: the last leaf may be short. */
    void finishLoad() {
        if (leafCount > 0) {
            Leaf last = leaves[leafCount - 1];
            last.words = Arrays.copyOf(last.words, 2 * Leaf.roundUp(last.size));
            settle(leafCount - 1);
        }
    }

    // ---------------------------------------------------------------- internals

    private static void checkRange(long lba, long sectors) {
        if (lba < 0 || sectors < 0 || lba > MAX_LBA || sectors > MAX_LBA - lba) {
            throw new IllegalArgumentException("range out of bounds: lba " + lba + ", " + sectors + " sectors");
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("extent map invariant broken: " + what);
        }
    }

    /** Contiguous in LBA and location, inside one object, and short enough to be one entry. */
    private boolean mergeable(long aLba, long aLen, long aLoc, long bLba, long bLen, long bLoc) {
        return aLba + aLen == bLba
                && aLoc + aLen == bLoc
                && Locations.offsetSectors(bLoc) != 0
                && aLen + bLen <= maxEntrySectors;
    }

    /** The leaf whose range can contain {@code lba}: the last one starting at or before it, else the first. */
    private int leafFor(long lba) {
        int lo = 0;
        int hi = leafCount;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (firstLbas[mid] <= lba) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return Math.max(0, lo - 1);
    }

    /**
     * Unmaps {@code [lba, end)}. Leaves strictly between the first and the last touched one are
     * wholly inside the range (their first LBA is past {@code lba}, their end before the last
     * leaf's start), so they are dropped with one index shift: a whole-device trim costs
     * O(leaves) plus one listener call per displaced entry.
     */
    private void cut(long lba, long end, DisplacedListener displaced) {
        if (leafCount == 0) {
            return;
        }
        int first = leafFor(lba);
        int last = leafFor(end - 1);
        cutWithin(first, lba, end, displaced);
        if (first == last) {
            if (leaves[first].size > leafMax) { // the cut split one entry in a full leaf
                splitLeaf(first);
            } else {
                settle(first);
            }
            return;
        }
        if (last - first > 1) {
            for (int li = first + 1; li < last; li++) {
                Leaf leaf = leaves[li];
                if (displaced != null) {
                    for (int i = 0; i < leaf.size; i++) {
                        displaced.displaced(leaf.location(i), leaf.length(i));
                    }
                }
                extentCount -= leaf.size;
            }
            removeLeaves(first + 1, last);
        }
        cutWithin(first + 1, lba, end, displaced);
        settle(first + 1); // higher index first: settling it never moves leaf `first`
        settle(first);
    }

    /**
     * A cut can shorten the entries straddling its edges, and a neighbour pair that was kept
     * apart only because together it exceeded the entry length limit may now fit in one entry:
     * merge those two pairs so the map stays canonical.
     */
    private void remergeCutEdges(long lba, long end) {
        if (leafCount == 0) {
            return;
        }
        Leaf leaf = leaves[leafFor(end)];
        int p = leaf.countStartingBefore(end);
        if (p < leaf.size && leaf.lba(p) == end) {
            mergeAt(leaf.end(p));
        }
        if (leafCount == 0) {
            return;
        }
        leaf = leaves[leafFor(lba)];
        p = leaf.countStartingBefore(lba) - 1;
        if (p >= 0 && leaf.end(p) == lba) {
            mergeAt(leaf.lba(p));
        }
    }

    /** Merges the entry starting at {@code boundary} into its predecessor if the two are mergeable. */
    private void mergeAt(long boundary) {
        int bl = leafFor(boundary);
        Leaf b = leaves[bl];
        int bp = b.countStartingBefore(boundary);
        if (bp == b.size || b.lba(bp) != boundary) {
            return;
        }
        int al = bl;
        int ap = bp - 1;
        if (ap < 0) {
            if (al == 0) {
                return;
            }
            al--;
            ap = leaves[al].size - 1;
        }
        Leaf a = leaves[al];
        if (mergeable(a.lba(ap), a.length(ap), a.location(ap), b.lba(bp), b.length(bp), b.location(bp))) {
            a.set(ap, a.lba(ap), a.length(ap) + b.length(bp), a.location(ap));
            removeEntry(bl, bp);
        }
    }

    /** Cuts {@code [lba, end)} out of one leaf, keeping the parts of straddling entries outside it. */
    private void cutWithin(int li, long lba, long end, DisplacedListener displaced) {
        Leaf leaf = leaves[li];
        int i = leaf.firstEndingAfter(lba);
        int j = leaf.countStartingBefore(end);
        if (i >= j) {
            return;
        }
        if (displaced != null) {
            for (int k = i; k < j; k++) {
                long s = leaf.lba(k);
                long from = Math.max(s, lba);
                displaced.displaced(leaf.location(k) + (from - s), Math.min(leaf.end(k), end) - from);
            }
        }
        long headLba = leaf.lba(i);
        long headLoc = leaf.location(i);
        long tailStart = leaf.lba(j - 1);
        long tailEnd = leaf.end(j - 1);
        long tailLoc = leaf.location(j - 1) + (end - tailStart);
        boolean head = headLba < lba;
        boolean tail = tailEnd > end;
        int keep = (head ? 1 : 0) + (tail ? 1 : 0);
        int removed = j - i;
        if (keep > removed) {
            leaf.openGap(j, keep - removed); // one entry split in two around the cut
        } else if (keep < removed) {
            leaf.delete(i + keep, j);
        }
        int w = i;
        if (head) {
            leaf.set(w++, headLba, lba - headLba, headLoc);
        }
        if (tail) {
            leaf.set(w, end, tailEnd - end, tailLoc);
        }
        extentCount += keep - removed;
        if (leaf.size > 0) {
            firstLbas[li] = leaf.firstLba();
        }
    }

    /** Maps a chunk into unmapped space, merging with contiguous neighbours instead of adding an entry. */
    private void insertIntoHole(long lba, long len, long loc) {
        if (leafCount == 0) {
            Leaf leaf = new Leaf(1);
            leaf.set(0, lba, len, loc);
            leaf.size = 1;
            insertLeaf(0, leaf);
            extentCount++;
            return;
        }
        int li = leafFor(lba);
        Leaf leaf = leaves[li];
        // The hole means no entry starts at lba, so pos == 0 only before the first leaf's first
        // entry: the predecessor, when there is one, is always in this leaf.
        int pos = leaf.countStartingBefore(lba);
        int nextLeaf = pos < leaf.size ? li : li + 1;
        int nextPos = pos < leaf.size ? pos : 0;
        Leaf next = nextLeaf < leafCount ? leaves[nextLeaf] : null;

        if (pos > 0 && mergeable(leaf.lba(pos - 1), leaf.length(pos - 1), leaf.location(pos - 1), lba, len, loc)) {
            long prevLba = leaf.lba(pos - 1);
            long prevLoc = leaf.location(pos - 1);
            long merged = leaf.length(pos - 1) + len;
            if (next != null && mergeable(prevLba, merged, prevLoc, next.lba(nextPos), next.length(nextPos), next.location(nextPos))) {
                leaf.set(pos - 1, prevLba, merged + next.length(nextPos), prevLoc);
                removeEntry(nextLeaf, nextPos); // the chunk filled the gap between two pieces
            } else {
                leaf.set(pos - 1, prevLba, merged, prevLoc);
            }
            return;
        }
        if (next != null && mergeable(lba, len, loc, next.lba(nextPos), next.length(nextPos), next.location(nextPos))) {
            next.set(nextPos, lba, len + next.length(nextPos), loc);
            if (nextPos == 0) {
                firstLbas[nextLeaf] = lba;
            }
            return;
        }
        if (leaf.size >= leafMax) {
            splitLeaf(li);
            if (pos > leaf.size) {
                pos -= leaf.size;
                li++;
                leaf = leaves[li];
            }
        }
        leaf.openGap(pos, 1);
        leaf.set(pos, lba, len, loc);
        extentCount++;
        if (pos == 0) {
            firstLbas[li] = lba;
        }
    }

    private void removeEntry(int li, int i) {
        Leaf leaf = leaves[li];
        leaf.delete(i, i + 1);
        extentCount--;
        if (leaf.size > 0) {
            firstLbas[li] = leaf.firstLba();
        }
        settle(li);
    }

    /** Restores the size bounds of leaf {@code li} after it shrank: drop it if empty, else merge with or borrow from a neighbour. */
    private void settle(int li) {
        if (li < 0 || li >= leafCount) {
            return;
        }
        Leaf leaf = leaves[li];
        if (leaf.size == 0) {
            removeLeaves(li, li + 1);
            return;
        }
        if (leaf.size >= leafMin || leafCount == 1) {
            return;
        }
        int left = li + 1 < leafCount ? li : li - 1;
        Leaf a = leaves[left];
        Leaf b = leaves[left + 1];
        if (a.size + b.size <= leafMax) {
            a.appendAll(b);
            removeLeaves(left + 1, left + 2);
        } else {
            Leaf.redistribute(a, b); // both end up with more than leafMax / 2 >= leafMin
            firstLbas[left + 1] = b.firstLba();
        }
        firstLbas[left] = a.firstLba(); // `a` may have been emptied by the cut that led here
    }

    private void splitLeaf(int li) {
        Leaf leaf = leaves[li];
        insertLeaf(li + 1, leaf.splitOff(leaf.size / 2));
    }

    private void insertLeaf(int at, Leaf leaf) {
        if (leafCount == leaves.length) {
            int cap = leafCount + (leafCount >> 1) + 1;
            leaves = Arrays.copyOf(leaves, cap);
            firstLbas = Arrays.copyOf(firstLbas, cap);
        }
        System.arraycopy(leaves, at, leaves, at + 1, leafCount - at);
        System.arraycopy(firstLbas, at, firstLbas, at + 1, leafCount - at);
        leaves[at] = leaf;
        firstLbas[at] = leaf.firstLba();
        leafCount++;
    }

    /** Drops leaves {@code [from, to)} from the index with one shift. */
    private void removeLeaves(int from, int to) {
        System.arraycopy(leaves, to, leaves, from, leafCount - to);
        System.arraycopy(firstLbas, to, firstLbas, from, leafCount - to);
        int newCount = leafCount - (to - from);
        Arrays.fill(leaves, newCount, leafCount, null);
        leafCount = newCount;
        if (leaves.length > 16 && leafCount < leaves.length / 4) { // give back the index after a big trim
            int cap = Math.max(4, leafCount * 2);
            leaves = Arrays.copyOf(leaves, cap);
            firstLbas = Arrays.copyOf(firstLbas, cap);
        }
    }
}
