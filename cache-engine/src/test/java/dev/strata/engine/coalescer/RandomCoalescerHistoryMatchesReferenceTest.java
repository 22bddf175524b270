package dev.strata.engine.coalescer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The coalescer alone against a reference, with a fake sink that records every write-out as a
 * journal would: random sequential streams, non-sequential, overlapping and cluster-straddling
 * small writes, large writes, trims, reads, flushes, FUA writes and crashes. Properties:
 * <ul>
 *   <li>reads through the coalescer (sink state + {@link SequentialCoalescer#overlay}) always
 *       equal the reference (read-your-writes);</li>
 *   <li>after every operation, the state after <em>every</em> prefix of the sink's records from
 *       the last flush/FUA on is the state after some prefix of the writes that includes every
 *       durable one (a crash may keep any prefix of the journal);</li>
 *   <li>a crash keeps a random such prefix, drops the unfinished clusters, and the history
 *       goes on from there.</li>
 * </ul>
 * Seeds: {@code -Dstrata.coalescer.seeds=N} (default 2000); one seed: {@code -Dstrata.coalescer.seed=S}.
 */
class RandomCoalescerHistoryMatchesReferenceTest {
    private static final int SECTOR = 512;
    private static final int SECTORS = 512; // a 256 KiB volume

    @Test
    void everyJournalPrefixIsAWritePrefixAndReadsSeeEveryWrite() throws Exception {
        String one = System.getProperty("strata.coalescer.seed");
        int count = one != null ? 1 : Integer.getInteger("strata.coalescer.seeds", 2000);
        long first = one != null ? Long.parseLong(one) : 1;
        long[] totals = new long[5];
        for (long seed = first; seed < first + count; seed++) {
            try {
                Run run = new Run(seed);
                run.run();
                SequentialCoalescer.Stats st = run.co.stats();
                totals[0] += st.writesCoalesced.sum();
                totals[1] += st.clustersWrittenOut.sum();
                totals[2] += st.clustersFilled.sum();
                totals[3] += st.clustersInvalidated.sum();
                totals[4] += st.clustersEvicted.sum();
            } catch (Throwable t) {
                throw new AssertionError("coalescer seed " + seed + " failed (replay with -Dstrata.coalescer.seed=" + seed + "): "
                        + t.getMessage(), t);
            }
        }
        System.out.println("coalescer model: coalesced " + totals[0] + ", written out " + totals[1] + ", filled " + totals[2]
                + ", invalidated " + totals[3] + ", evicted " + totals[4]);
        if (count >= 50) {
            for (long t : totals) {
                if (t == 0) {
                    fail("a coalescer path was never exercised: " + Arrays.toString(totals));
                }
            }
        }
    }

    /** One record as the journal would hold it: sector tags, or null tags for a trim. */
    private record Rec(int lba, int sectors, long[] tags) {}

    /** One operation of the reference: a write of tags tagBase + i, or a trim (tagBase 0). */
    private record Op(int lba, int sectors, long tagBase) {
        long tagAt(int s) {
            return tagBase == 0 ? 0 : tagBase + (s - lba);
        }
    }

    private static final class Run {
        final long seed;
        final SplittableRandom rnd;
        final List<Rec> records = new ArrayList<>();
        final List<Op> ops = new ArrayList<>();
        long[] base = new long[SECTORS];
        int durableRecords;
        int durableOps;
        /** Record prefixes shorter than this were checked against the current durable point. */
        int checked;
        long nextTag = 1L << 20;
        final SequentialCoalescer co;
        final int clusterBytes;
        final long[] streamEnds;
        final StringBuilder trace = new StringBuilder();

        Run(long seed) {
            this.seed = seed;
            this.rnd = new SplittableRandom(seed);
            int[] sizes = {4096, 8192, 16384, 65536};
            clusterBytes = sizes[rnd.nextInt(sizes.length)];
            int streams = 1 + rnd.nextInt(6);
            streamEnds = new long[1 + rnd.nextInt(6)];
            for (int i = 0; i < streamEnds.length; i++) {
                streamEnds[i] = rnd.nextInt(SECTORS);
            }
            co = new SequentialCoalescer(clusterBytes, streams, this::sinkWrite);
            trace.append("cluster=").append(clusterBytes).append(" streams=").append(streams).append(';');
        }

        long sinkWrite(long offset, ByteBuffer data) {
            int lba = (int) (offset / SECTOR);
            int sectors = data.remaining() / SECTOR;
            long[] tags = new long[sectors];
            for (int i = 0; i < sectors; i++) {
                tags[i] = data.getLong(data.position() + i * SECTOR);
                long check = data.getLong(data.position() + i * SECTOR + 8);
                if (tags[i] != 0 && check != lba + i) {
                    throw new AssertionError("sector " + (lba + i) + " written out holds the data of sector " + check);
                }
            }
            records.add(new Rec(lba, sectors, tags));
            return records.size();
        }

        void run() throws IOException {
            int steps = 50 + rnd.nextInt(300);
            for (int i = 0; i < steps; i++) {
                step();
                checkEveryRecordPrefix();
            }
        }

        void step() throws IOException {
            int r = rnd.nextInt(100);
            if (r < 45) {
                // A sequential stream continues (the common case this class is for).
                int s = rnd.nextInt(streamEnds.length);
                int lba = (int) streamEnds[s];
                int sectors = rnd.nextInt(10) == 0 ? 1 + rnd.nextInt(clusterBytes / SECTOR * 2) : 1 + rnd.nextInt(8);
                if (lba >= SECTORS) {
                    lba = rnd.nextInt(SECTORS);
                }
                sectors = Math.min(sectors, SECTORS - lba);
                write(lba, sectors, rnd.nextInt(12) == 0);
                streamEnds[s] = lba + sectors;
            } else if (r < 58) {
                int lba = rnd.nextInt(SECTORS);
                write(lba, Math.min(1 + rnd.nextInt(rnd.nextBoolean() ? 8 : 200), SECTORS - lba), rnd.nextInt(12) == 0);
            } else if (r < 66) {
                // Overlap a stream's recent bytes.
                int s = rnd.nextInt(streamEnds.length);
                int lba = (int) Math.max(0, Math.min(SECTORS - 1, streamEnds[s] - 1 - rnd.nextInt(12)));
                write(lba, Math.min(1 + rnd.nextInt(6), SECTORS - lba), false);
            } else if (r < 71) {
                int lba = rnd.nextInt(SECTORS);
                int sectors = rnd.nextInt(8) == 0 ? SECTORS - lba : Math.min(1 + rnd.nextInt(40), SECTORS - lba);
                trace.append("trim(").append(lba).append(',').append(sectors).append(");");
                co.beforeOtherWrite((long) lba * SECTOR, (long) sectors * SECTOR);
                records.add(new Rec(lba, sectors, null));
                ops.add(new Op(lba, sectors, 0));
            } else if (r < 79) {
                trace.append("flush;");
                co.writeOutPending();
                markDurable();
            } else if (r < 93) {
                read();
            } else {
                crash();
            }
        }

        void write(int lba, int sectors, boolean fua) throws IOException {
            long tagBase = nextTag;
            nextTag += 1L << 20;
            ByteBuffer buf = ByteBuffer.allocate(sectors * SECTOR);
            for (int i = 0; i < sectors; i++) {
                buf.putLong(i * SECTOR, tagBase + i);
                buf.putLong(i * SECTOR + 8, lba + i);
            }
            trace.append(fua ? "wfua(" : "w(").append(lba).append(',').append(sectors).append(");");
            int pos = buf.position();
            co.write((long) lba * SECTOR, buf, fua);
            assertEquals(pos, buf.position(), "the coalescer moved the caller's buffer");
            ops.add(new Op(lba, sectors, tagBase));
            if (fua) {
                markDurable();
            }
        }

        void markDurable() {
            checked = 0;
            durableRecords = records.size();
            durableOps = ops.size();
        }

        void read() {
            int lba = rnd.nextInt(SECTORS);
            int sectors = Math.min(rnd.nextInt(6) == 0 ? SECTORS : 1 + rnd.nextInt(64), SECTORS - lba);
            long gen = co.generation();
            long[] stored = stateOfRecords(records.size());
            ByteBuffer dst = ByteBuffer.allocateDirect(sectors * SECTOR + 1024);
            int at = 512; // not at index 0: overlay must honour the reader's index
            for (int i = 0; i < sectors; i++) {
                dst.putLong(at + i * SECTOR, stored[lba + i]);
            }
            if (!co.overlay((long) lba * SECTOR, dst, at, sectors * SECTOR, gen)) {
                fail("overlay asked for a retry though nothing changed" + trace());
            }
            long[] want = stateAfterOps(ops.size());
            for (int i = 0; i < sectors; i++) {
                long got = dst.getLong(at + i * SECTOR);
                if (got != want[lba + i]) {
                    fail("read of sector " + (lba + i) + ": expected " + Long.toHexString(want[lba + i]) + " got "
                            + Long.toHexString(got) + trace());
                }
            }
        }

        void crash() {
            int keep = durableRecords + rnd.nextInt(records.size() - durableRecords + 1);
            trace.append("crash keeping ").append(keep).append('/').append(records.size()).append(';');
            long[] state = stateOfRecords(keep);
            int[] torn = new int[1];
            int k = matchPrefix(state, durableOps, torn);
            if (k < 0) {
                fail("crash state is no prefix" + trace());
            }
            co.crash();
            base = state;
            records.clear();
            ops.clear();
            durableRecords = 0;
            durableOps = 0;
            checked = 0;
        }

        /** Every prefix of the records from the durable one on must be a prefix of the writes (each checked once). */
        void checkEveryRecordPrefix() {
            int from = Math.max(durableRecords, checked);
            long[] work = stateOfRecords(from);
            for (int r = from; ; r++) {
                if (matchPrefix(work, durableOps, new int[1]) < 0) {
                    fail("the first " + r + " of " + records.size() + " records are not the state after a prefix of at least "
                            + durableOps + " of " + ops.size() + " writes" + trace());
                }
                if (r == records.size()) {
                    checked = r;
                    break;
                }
                apply(work, records.get(r));
            }
        }

        long[] stateOfRecords(int n) {
            long[] s = base.clone();
            for (int i = 0; i < n; i++) {
                apply(s, records.get(i));
            }
            return s;
        }

        static void apply(long[] s, Rec r) {
            for (int i = 0; i < r.sectors; i++) {
                s[r.lba + i] = r.tags == null ? 0 : r.tags[i];
            }
        }

        long[] stateAfterOps(int k) {
            long[] s = base.clone();
            for (Op op : ops.subList(0, k)) {
                for (int i = op.lba; i < op.lba + op.sectors; i++) {
                    s[i] = op.tagAt(i);
                }
            }
            return s;
        }

        /** Smallest k ≥ min whose state (the k-th op possibly torn to an LBA prefix) is {@code got}, or -1. */
        int matchPrefix(long[] got, int min, int[] torn) {
            long[] work = base.clone();
            int mismatches = 0;
            for (int s = 0; s < SECTORS; s++) {
                mismatches += work[s] != got[s] ? 1 : 0;
            }
            for (int k = 0; ; k++) {
                if (k >= min && mismatches == 0) {
                    return k;
                }
                if (k == ops.size()) {
                    return -1;
                }
                Op op = ops.get(k);
                for (int s = op.lba; s < op.lba + op.sectors; s++) {
                    boolean was = work[s] != got[s];
                    work[s] = op.tagAt(s);
                    boolean is = work[s] != got[s];
                    mismatches += (is ? 1 : 0) - (was ? 1 : 0);
                    if (k >= min && mismatches == 0 && s + 1 < op.lba + op.sectors) {
                        torn[0] = s + 1 - op.lba;
                        return k + 1;
                    }
                }
            }
        }

        String trace() {
            String t = trace.toString();
            return "\n seed " + seed + " trace (last 2000): " + (t.length() > 2000 ? t.substring(t.length() - 2000) : t);
        }
    }

    /** Sanity of the model itself: a sink state equal to the reference is found at the right prefix. */
    @Test
    void theReferenceFindsTheExactPrefix() {
        Run run = new Run(7);
        run.ops.add(new Op(0, 4, 100));
        run.ops.add(new Op(2, 4, 200));
        long[] s = run.stateAfterOps(2);
        assertEquals(2, run.matchPrefix(s, 0, new int[1]));
        long[] torn = run.stateAfterOps(1);
        torn[2] = 200;
        assertEquals(2, run.matchPrefix(torn, 1, new int[1]));
        assertEquals(-1, run.matchPrefix(torn, 2, new int[1]));
        assertEquals(true, Arrays.equals(run.stateAfterOps(0), new long[SECTORS]));
    }
}
