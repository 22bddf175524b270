package dev.strata.node.cli;

import static dev.strata.node.nbd.NbdTestSupport.requireTool;
import static dev.strata.node.nbd.NbdTestSupport.runOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.volume.LogStructuredVolume;
import dev.strata.engine.volume.StrataEngine;
import dev.strata.engine.volume.Volume;
import dev.strata.engine.volume.VolumeOptions;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 5, "Command line": a snapshot of a volume a running {@code serve} holds goes through
 * that process and is crash-consistent. Real parts: {@code strata serve} in its own JVM, libnbd's
 * nbdsh writing without pause over two NBD connections, {@code strata snapshot create} run as the
 * command line (in this JVM through {@link StrataMain#run}, and once as its own process for the
 * exit status). Each snapshot taken while the writer runs must equal the volume after some
 * prefix of the writes that includes every write acknowledged before the command started.
 * Then the error paths: a taken name, an unknown snapshot, a wrong volume, a SIGKILLed serve
 * (stale socket: the command works directly, the next serve replaces the socket), a volume held
 * by another node.
 */
class ServeControlProcessTest {
    private static final int BLOCK = 4096;
    /** The writer's blocks: the first 16 MiB. */
    private static final int NB = 4096;
    private static final int STRIDE = 7919;

    /** Writers, each on its own connection and its own 16 MiB region. */
    private static final int WRITERS = 2;

    /**
     * One write after another; line {@code i} is printed after write {@code i} was acknowledged.
     * Write {@code i} fills block {@code i * STRIDE mod NB} of the writer's region with {@code i}.
     */
    private static final String WRITER = """
            import os
            h.connect_uri(os.environ['URI'])
            NB = int(os.environ['NB']); STRIDE = int(os.environ['STRIDE']); stop = os.environ['STOP']
            BASE = int(os.environ['BASE'])
            i = 0
            while True:
                if i % 32 == 0 and os.path.exists(stop):
                    break
                i += 1
                h.pwrite(i.to_bytes(8, 'little') * 512, BASE + ((i * STRIDE) % NB) * 4096)
                print(i, flush=True)
            h.shutdown()
            print('DONE', flush=True)
            """;

    @TempDir
    Path tmp;

    record Outcome(int exit, String out, String err) {}

    private Outcome cli(String... args) {
        return cliIn(tmp.resolve("data"), args);
    }

    private Outcome cliIn(Path dir, String... args) {
        List<String> argv = new ArrayList<>(List.of(args));
        argv.addAll(List.of("--dir", dir.toString()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = StrataMain.run(argv.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Outcome(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Outcome ok(Outcome o) {
        assertEquals(0, o.exit(), "stdout:\n" + o.out() + "\nstderr:\n" + o.err());
        return o;
    }

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void snapshotsThroughServeHoldEveryAcknowledgedWriteAndErrorsAreClear() throws Exception {
        String nbdsh = requireTool("nbdsh");
        String qemuIo = requireTool("qemu-io");
        Path data = tmp.resolve("data");
        Path socket = data.resolve("node/control/vol0.sock").toAbsolutePath();
        String[] serve = {"serve", "--dir", data.toString(), "--size", "64MiB", "--cache-size", "32MiB"};

        try (ServeProcess s = ServeProcess.start(tmp.resolve("serve-1.log"), serve);
                StrataEngine verifier = verifier()) {
            String uri = s.endpoint(s.awaitEndpoints(1, Duration.ofSeconds(60)), "nbd+unix:");
            awaitLine(s, "control socket: " + socket);

            // 1. Snapshots while two nbdsh writers, each on its own connection, write as fast as they can.
            Path stop = tmp.resolve("stop-writer");
            Process[] writers = new Process[WRITERS];
            AtomicLong[] acked = new AtomicLong[WRITERS];
            Thread[] lines = new Thread[WRITERS];
            for (int w = 0; w < WRITERS; w++) {
                ProcessBuilder pb = new ProcessBuilder(nbdsh, "-c", WRITER);
                pb.environment().put("PATH", "/usr/bin:" + System.getenv("PATH"));
                pb.environment().put("URI", uri);
                pb.environment().put("NB", Integer.toString(NB));
                pb.environment().put("STRIDE", Integer.toString(STRIDE));
                pb.environment().put("BASE", Long.toString(region(w)));
                pb.environment().put("STOP", stop.toString());
                pb.redirectError(tmp.resolve("writer-" + w + ".err").toFile());
                Process writer = pb.start();
                AtomicLong a = new AtomicLong();
                writers[w] = writer;
                acked[w] = a;
                lines[w] = Thread.ofPlatform().daemon().start(() -> {
                    try (BufferedReader r = new BufferedReader(new InputStreamReader(writer.getInputStream(),
                            StandardCharsets.UTF_8))) {
                        String line;
                        while ((line = r.readLine()) != null) {
                            if (!line.equals("DONE")) {
                                a.set(Long.parseLong(line.strip()));
                            }
                        }
                    } catch (Exception ignored) {
                        // the writer is gone: its exit status tells
                    }
                });
            }
            for (int w = 0; w < WRITERS; w++) {
                awaitAcked(acked[w], 300, writers[w], tmp.resolve("writer-" + w + ".err"));
            }
            long[][] ackedBefore = new long[3][WRITERS];
            for (int k = 0; k < 3; k++) {
                for (int w = 0; w < WRITERS; w++) {
                    ackedBefore[k][w] = acked[w].get();
                }
                Outcome o = ok(cli("snapshot", "create", "--volume", "vol0", "--name", "c" + k));
                assertTrue(o.out().contains("created snapshot vol0@c" + k) && o.out().contains("through serve at " + socket),
                        o.out());
                for (int w = 0; w < WRITERS; w++) {
                    awaitAcked(acked[w], acked[w].get() + 200, writers[w], tmp.resolve("writer-" + w + ".err"));
                }
            }
            Files.writeString(stop, "stop");
            for (int w = 0; w < WRITERS; w++) {
                assertTrue(writers[w].waitFor(60, TimeUnit.SECONDS), "writer stops");
                lines[w].join(10_000);
                assertEquals(0, writers[w].exitValue(), Files.readString(tmp.resolve("writer-" + w + ".err")));
            }
            for (int k = 0; k < 3; k++) {
                for (int w = 0; w < WRITERS; w++) {
                    long total = acked[w].get();
                    long prefix = checkPrefix(verifier, "c" + k, region(w), ackedBefore[k][w], total);
                    System.out.println("snapshot c" + k + ", writer " + w + ": writes acknowledged before the command "
                            + ackedBefore[k][w] + ", in the snapshot: the first " + prefix + " of " + total);
                }
            }

            // 2. A clone of a snapshot taken through serve reads the same (clone: bucket only, allowed while serve runs).
            ok(cli("volume", "clone", "--from", "vol0@c1", "--volume", "vol1"));
            try (Volume snap = verifier.openSnapshot("vol0", "c1");
                    Volume clone = verifier.openReadOnly("vol1", VolumeOptions.defaults())) {
                int length = WRITERS * NB * BLOCK;
                assertEquals(-1, read(snap, 0, length).mismatch(read(clone, 0, length)), "clone equals snapshot");
            }

            // 3. Errors through serve: clear message, exit 1 (2 for a command-line mistake).
            Outcome taken = cli("snapshot", "create", "--volume", "vol0", "--name", "c1");
            assertEquals(1, taken.exit());
            assertTrue(taken.err().contains("snapshot c1 of volume vol0 already exists"), taken.err());
            try (ServeProcess child = ServeProcess.start(tmp.resolve("cli-child.log"), "snapshot", "create", "--dir",
                    data.toString(), "--volume", "vol0", "--name", "c1")) {
                assertTrue(child.process.waitFor(60, TimeUnit.SECONDS));
                assertEquals(1, child.process.exitValue(), "exit status of the command as its own process");
                assertTrue(child.errors().contains("strata snapshot: snapshot c1 of volume vol0 already exists"), child.errors());
            }
            Outcome unknown = cli("snapshot", "delete", "--volume", "vol0", "--name", "nope");
            assertEquals(1, unknown.exit());
            assertTrue(unknown.err().contains("volume vol0 has no snapshot nope"), unknown.err());
            // Read by clone vol1: hidden and kept for it, through serve; the answer names the clone.
            Outcome kept = cli("snapshot", "delete", "--volume", "vol0", "--name", "c1");
            assertEquals(0, kept.exit(), kept.err());
            assertTrue(kept.out().contains("through serve") && kept.out().contains("[vol1]"), kept.out());
            assertEquals(2, cli("snapshot", "create", "--volume", "vol0", "--name", "bad.name").exit());
            Outcome wrong = cli("snapshot", "create", "--volume", "vol1", "--name", "x", "--control", socket.toString());
            assertEquals(1, wrong.exit());
            assertTrue(wrong.err().contains("holds volume vol0, not vol1"), wrong.err());
            // A same-named volume of another store, pointed at this serve's socket: refused, nothing taken.
            Path elsewhere = tmp.resolve("elsewhere");
            ok(cliIn(elsewhere, "volume", "create", "vol0", "--size", "16MiB"));
            Outcome otherStore = cliIn(elsewhere, "snapshot", "create", "--volume", "vol0", "--name", "x", "--control",
                    socket.toString());
            assertEquals(1, otherStore.exit());
            assertTrue(otherStore.err().contains("a volume of the same name in another store?"), otherStore.err());
            assertTrue(ok(cli("snapshot", "delete", "--volume", "vol0", "--name", "c2")).out().contains("through serve"));
            Outcome status = ok(cli("control", "status", "--volume", "vol0"));
            assertTrue(status.out().contains("snapshots          1") && status.out().contains("bytes-written"), status.out());
            assertTrue(status.out().contains("size=" + (32 << 20) + " "), "--cache-size sized the node's read cache: " + status.out());
            assertTrue(ok(cli("control", "flush", "--volume", "vol0")).out().contains("flushed volume vol0"));

            // 4. SIGKILL: the socket file stays behind; the command finds nobody listening and works directly
            //    (this node held the volume: its journal is replayed, so acknowledged, flushed writes are in).
            runOk(qemuIo, "-f", "raw", "-c", "write -P 0xa5 40M 1M", "-c", "flush", uri);
            assertNotEquals(0, s.kill());
            assertTrue(Files.exists(socket), "a killed serve leaves its socket file");
            Outcome direct = ok(cli("snapshot", "create", "--volume", "vol0", "--name", "k1"));
            assertTrue(direct.err().contains("nothing listens on control socket " + socket), direct.err());
            assertFalse(direct.out().contains("through serve"), direct.out());
            ByteBuffer k1;
            try (Volume snap = verifier.openSnapshot("vol0", "k1")) {
                k1 = read(snap, 40L << 20, 1 << 20);
            }
            for (int i = 0; i < k1.capacity(); i++) {
                assertEquals((byte) 0xa5, k1.get(i), "byte " + i + " of the write acknowledged before SIGKILL");
            }
            Outcome noServe = cli("control", "status", "--volume", "vol0");
            assertEquals(1, noServe.exit());
            assertTrue(noServe.err().contains("no serve of volume vol0 answers"), noServe.err());
        }

        // 5. The next serve replaces the stale socket; snapshots go through it again; a clean stop removes it.
        try (ServeProcess s = ServeProcess.start(tmp.resolve("serve-2.log"), serve)) {
            s.awaitEndpoints(1, Duration.ofSeconds(60));
            awaitLine(s, "control socket: " + socket);
            assertTrue(s.errors().contains("replacing a stale socket"), s.errors());
            try (ServeProcess child = ServeProcess.start(tmp.resolve("cli-child-2.log"), "snapshot", "create", "--dir",
                    data.toString(), "--volume", "vol0", "--name", "k2")) {
                assertTrue(child.process.waitFor(60, TimeUnit.SECONDS));
                assertEquals(0, child.process.exitValue(), child.errors());
                awaitLine(child, "created snapshot vol0@k2 (objects up to ");
                assertTrue(child.output().contains("through serve at " + socket), child.output());
            }
            assertEquals(0, s.terminate(Duration.ofSeconds(120)), s.output() + "\n" + s.errors());
            assertFalse(Files.exists(socket), "a clean stop removes the control socket");
        }

        // 6. Held by a writer on another node (its own local directory and node id, the same bucket).
        try (StrataEngine otherNode = new StrataEngine(new LocalDirectoryObjectStore(data.resolve("bucket")),
                tmp.resolve("other-node"), "other-node-id")) {
            LogStructuredVolume held = otherNode.openForWrite("vol1", VolumeOptions.defaults(), false);
            Outcome refused = cli("snapshot", "create", "--volume", "vol1", "--name", "x");
            assertEquals(1, refused.exit());
            assertTrue(refused.err().contains("is held by node other-node-id") && refused.err().contains("holder's node"),
                    refused.err());
            held.close();
        }
        // Nobody holds it now: the command takes the snapshot itself.
        assertFalse(ok(cli("snapshot", "create", "--volume", "vol1", "--name", "x")).out().contains("through serve"));
    }

    private StrataEngine verifier() throws Exception {
        return new StrataEngine(new LocalDirectoryObjectStore(tmp.resolve("data/bucket")), tmp.resolve("verifier-node"),
                "verifier-node-id");
    }

    private static long region(int writer) {
        return (long) writer * NB * BLOCK;
    }

    /**
     * Checks that snapshot {@code name} holds, in the region at {@code base}, the writer's blocks
     * after its first P writes, for some P with {@code ackedBefore <= P <= total}; returns P.
     */
    private static long checkPrefix(StrataEngine engine, String name, long base, long ackedBefore, long total)
            throws Exception {
        ByteBuffer all;
        try (Volume snap = engine.openSnapshot("vol0", name)) {
            all = read(snap, base, NB * BLOCK).order(ByteOrder.LITTLE_ENDIAN);
        }
        long[] seen = new long[NB];
        long prefix = 0;
        for (int b = 0; b < NB; b++) {
            long v = all.getLong(b * BLOCK);
            for (int w = 1; w < BLOCK / 8; w++) {
                if (all.getLong(b * BLOCK + w * 8) != v) {
                    fail("snapshot " + name + ": block " + b + " is torn");
                }
            }
            seen[b] = v;
            prefix = Math.max(prefix, v);
        }
        if (prefix < ackedBefore || prefix > total) {
            fail("snapshot " + name + " holds writes up to " + prefix + "; acknowledged before the command: " + ackedBefore
                    + ", written in all: " + total);
        }
        long[] expected = new long[NB];
        for (long i = 1; i <= prefix; i++) {
            expected[(int) ((i * STRIDE) % NB)] = i;
        }
        for (int b = 0; b < NB; b++) {
            if (seen[b] != expected[b]) {
                fail("snapshot " + name + " is not the volume after its first " + prefix + " writes: block " + b + " holds write "
                        + seen[b] + ", expected " + expected[b]);
            }
        }
        return prefix;
    }

    private static ByteBuffer read(Volume v, long offset, int length) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(length);
        for (int at = 0; at < length; at += 1 << 20) {
            v.read(offset + at, b.slice(at, Math.min(1 << 20, length - at)));
        }
        return b;
    }

    private static void awaitAcked(AtomicLong acked, long atLeast, Process writer, Path errors) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (acked.get() < atLeast) {
            if (!writer.isAlive() || System.nanoTime() > deadline) {
                fail("the writer acknowledged " + acked.get() + " of " + atLeast + " writes (alive: " + writer.isAlive() + ")\n"
                        + Files.readString(errors));
            }
            Thread.sleep(20);
        }
    }

    private static void awaitLine(ServeProcess s, String line) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!s.output().contains(line)) {
            if (System.nanoTime() > deadline) {
                fail("serve did not print '" + line + "'\n" + s.output() + "\n" + s.errors());
            }
            Thread.sleep(20);
        }
    }
}
