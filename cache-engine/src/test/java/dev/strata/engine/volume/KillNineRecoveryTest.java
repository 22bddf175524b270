package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.strata.engine.store.LocalDirectoryObjectStore;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance 4 of the engine: a separate JVM writes through the engine and is killed with
 * SIGKILL at a random moment, several times; each restart must recover exactly the state after
 * some prefix of its operations that includes every operation acknowledged durable by a flush
 * (with the large-write bypass, in round 3: less the unflushed bypassed writes the replay found
 * without their object).
 */
class KillNineRecoveryTest {
    @TempDir
    Path tmp;

    @Test
    void flushedWritesSurviveSigkillOfTheWriterProcess() throws Exception {
        Path bucket = tmp.resolve("bucket");
        Path local = tmp.resolve("node");
        VolumeModel model = new VolumeModel(KillNineWriter.SECTORS);
        SplittableRandom rnd = new SplittableRandom(Long.getLong("strata.kill9.seed", System.nanoTime()));
        int rounds = Integer.getInteger("strata.kill9.rounds", 4);
        for (int round = 1; round <= rounds; round++) {
            long seed = round;
            AtomicInteger durable = new AtomicInteger();
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                    KillNineWriter.class.getName(), bucket.toString(), local.toString(), Long.toString(seed))
                    .redirectError(ProcessBuilder.Redirect.appendTo(tmp.resolve("child.log").toFile()))
                    .start();
            Thread readerThread = Thread.ofVirtual().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        if (line.startsWith("DURABLE ")) {
                            durable.set(Integer.parseInt(line.substring(8)));
                        }
                    }
                } catch (Exception ignored) {
                    // the child was killed
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (durable.get() == 0 && child.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(child.isAlive(), "writer process died on its own; see " + tmp.resolve("child.log"));
            assertTrue(durable.get() > 0, "writer made no durable progress within 60 s");
            Thread.sleep(300 + rnd.nextInt(1500));
            // SIGKILL through the handle: Process.destroyForcibly() would also close our end of its stdout and
            // drop acknowledgements still in the pipe.
            child.toHandle().destroyForcibly();
            child.waitFor();
            readerThread.join();
            int acknowledged = durable.get();

            // Everything the child may have done: it flushes every 32 operations, so at most 32 past the last ack.
            List<VolumeModel.Op> ops = new ArrayList<>();
            int horizon = acknowledged + 64;
            for (int i = 0; i < horizon; i++) {
                ops.add(KillNineWriter.op(seed, i));
            }
            StrataEngine engine = new StrataEngine(new LocalDirectoryObjectStore(bucket), local, "kill9-node");
            try (LogStructuredVolume v = engine.openForWrite(KillNineWriter.VOLUME, KillNineWriter.options(seed), false)) {
                long[] got = readAll(v);
                VolumeModel m = model;
                for (VolumeModel.Op op : ops) {
                    m.apply(op);
                }
                // Each round ends with a clean close: a lost record is never reported twice.
                java.util.List<long[]> lostRanges = v.lostBypasses().stream().map(l -> new long[] {l.lba(), l.sectors()}).toList();
                int lost = lostRanges.size();
                int k = m.matchPrefix(got, acknowledged, lostRanges);
                if (k < 0) {
                    long[] want = m.stateAfter(acknowledged);
                    StringBuilder diff = new StringBuilder();
                    int shown = 0;
                    int bad = 0;
                    for (int sct = 0; sct < want.length; sct++) {
                        if (want[sct] != got[sct]) {
                            bad++;
                            if (shown++ < 12) {
                                diff.append(String.format("%n  sector %d: acknowledged state has op %s, recovered has op %s",
                                        sct, describe(want[sct]), describe(got[sct])));
                            }
                        }
                    }
                    fail("round " + round + ": the recovered volume is not a prefix of the writer's operations that holds all "
                            + acknowledged + " acknowledged ones; " + bad + " sectors differ from the acknowledged state:" + diff);
                }
                System.out.println("round " + round + ": acknowledged " + acknowledged + ", recovered prefix " + k
                        + (lost > 0 ? " less " + lost + " lost bypassed writes" : ""));
                m.rebase(got);
            }
        }
    }

    /** Which operation of which round wrote a sector, from its tag. */
    private static String describe(long tag) {
        if (tag == 0) {
            return "none (zeros)";
        }
        if (tag == SectorPattern.GARBAGE) {
            return "GARBAGE";
        }
        return "round " + (tag >>> 40) + " #" + ((tag >>> 12) & 0xFFFFFFFL) + " sector+" + (tag & 0xFFF);
    }

    private static long[] readAll(Volume v) throws Exception {
        long[] tags = new long[KillNineWriter.SECTORS];
        ByteBuffer buf = ByteBuffer.allocate(4 * 1024 * 1024);
        for (long off = 0; off < v.size(); off += buf.capacity()) {
            buf.clear();
            v.read(off, buf);
            int base = (int) (off / 512);
            for (int i = 0; i < buf.capacity() / 512; i++) {
                tags[base + i] = SectorPattern.decode(buf, i * 512, base + i);
            }
        }
        return tags;
    }
}
