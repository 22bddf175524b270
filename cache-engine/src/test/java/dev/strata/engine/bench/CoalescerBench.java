package dev.strata.engine.bench;

import dev.strata.engine.coalescer.SequentialCoalescer;
import dev.strata.engine.journal.JournalStats;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import dev.strata.engine.volume.LogStructuredVolume;
import dev.strata.engine.volume.StrataEngine;
import dev.strata.engine.volume.VolumeOptions;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Benchmark (not a test), run by bench/coalescer.sh: a database log through the engine —
 * sequential writes of 512 B or 1 KiB, a FLUSH every 1, 16 or 256 writes — once without and
 * once with the sequential coalescer, side by side in one JVM. Prints one line of key=value
 * figures per run: per scenario and mode, the journal's records, entries (one positional write
 * each), bytes and fdatasyncs, bucket bytes PUT, and the time per write.
 *
 * <p>Key names: {@code b<WRITE>_f<FLUSH_EVERY>_<off|on>_<figure>}.
 *
 * <p>args: WORKDIR RUN [WRITES_PER_SCENARIO=4096] [CLUSTER_BYTES=65536]
 */
public final class CoalescerBench {
    private static final int[][] SCENARIOS = {{512, 1}, {512, 16}, {512, 256}, {1024, 1}, {1024, 16}, {1024, 256}};

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        String run = args[1];
        int writes = args.length > 2 ? Integer.parseInt(args[2]) : 4096;
        int cluster = args.length > 3 ? Integer.parseInt(args[3]) : 64 * 1024;
        ObjectStore store = new LocalDirectoryObjectStore(dir.resolve("bucket"));
        StrataEngine engine = new StrataEngine(store, dir.resolve("node"), "coalescer-bench");
        StringBuilder line = new StringBuilder("run=" + run);
        // A warm-up pass of each mode so that JIT compilation is not charged to the first scenario.
        measure(engine, store, 512, 16, 2048, 0, null);
        measure(engine, store, 512, 16, 2048, cluster, null);
        for (int[] s : SCENARIOS) {
            // Alternate the order between runs so neither mode always goes first.
            boolean offFirst = Integer.parseInt(run) % 2 == 1;
            for (int m = 0; m < 2; m++) {
                boolean on = (m == 0) != offFirst;
                String key = "b" + s[0] + "_f" + s[1] + "_" + (on ? "on" : "off") + "_";
                measure(engine, store, s[0], s[1], writes, on ? cluster : 0, new Out(line, key));
            }
        }
        System.out.println(line);
        engine.close();
    }

    private record Out(StringBuilder line, String prefix) {
        void put(String k, double v) {
            line.append(' ').append(prefix).append(k).append('=')
                    .append(v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.3f", v));
        }
    }

    private static void measure(StrataEngine engine, ObjectStore store, int writeBytes, int flushEvery, int writes,
            int clusterBytes, Out out) throws Exception {
        String name = "log-" + System.nanoTime();
        engine.createVolume(name, 1L << 30);
        LogStructuredVolume v = engine.openForWrite(name, VolumeOptions.defaults().withCoalescer(clusterBytes), false);
        ByteBuffer buf = ByteBuffer.allocateDirect(writeBytes);
        JournalStats j0 = v.journalStats();
        long put0 = store.stats().bytesPut.sum();
        long t0 = System.nanoTime();
        for (int i = 0; i < writes; i++) {
            buf.clear();
            buf.putLong(0, i);
            v.write((long) i * writeBytes, buf, false);
            if ((i + 1) % flushEvery == 0) {
                v.flush();
            }
        }
        v.flush();
        long nanos = System.nanoTime() - t0;
        JournalStats j = v.journalStats();
        SequentialCoalescer.Stats cs = v.coalescerStats();
        v.close();
        long put = store.stats().bytesPut.sum() - put0;
        if (out == null) {
            return;
        }
        out.put("records", j.recordsAppended() - j0.recordsAppended());
        out.put("entries", j.entriesWritten() - j0.entriesWritten());
        out.put("journal_KiB", (j.bytesWritten() - j0.bytesWritten()) / 1024.0);
        out.put("fdatasyncs", j.fsyncs() - j0.fsyncs());
        out.put("bucket_KiB", put / 1024.0);
        out.put("us_per_write", nanos / 1e3 / writes);
        if (cs != null) {
            out.put("coalesced", cs.writesCoalesced.sum());
            out.put("written_out", cs.clustersWrittenOut.sum());
        }
    }
}
