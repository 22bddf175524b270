package dev.strata.node.cli;

import static dev.strata.node.nbd.NbdTestSupport.requireTool;
import static dev.strata.node.nbd.NbdTestSupport.run;
import static dev.strata.node.nbd.NbdTestSupport.runOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.node.nbd.NbdTestSupport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code strata serve} whose volume directory (its lock file and journal) is deleted while it runs
 * answers further writes with EIO instead of acknowledging them into a journal no restart could
 * find, says why in {@code status}, still serves reads, and keeps every write it acknowledged
 * before: after a restart on the same directory they read back (docs/engine.md, "The local
 * directory vanishes"). Real parts: serve in its own JVM, qemu-io over TCP, the control socket.
 */
class ServeRefusesWritesOnceItsDirectoryIsDeletedTest {
    @TempDir
    Path tmp;

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void writesFailWithEioReadsGoOnAndAcknowledgedWritesSurviveARestart() throws Exception {
        String qemuIo = requireTool("qemu-io");
        Path data = tmp.resolve("data");
        String[] serve = {"serve", "--dir", data.toString(), "--size", "64MiB", "--listen", "127.0.0.1:0"};
        try (ServeProcess s = ServeProcess.start(tmp.resolve("serve-1.log"), serve)) {
            String tcp = s.endpoint(s.awaitEndpoints(2, Duration.ofSeconds(60)), "nbd:");
            runOk(qemuIo, "-f", "raw", "-c", "write -P 0x61 0 4M", "-c", "write -P 0x62 8M 64k", tcp); // no flush

            Path volumeDir = data.resolve("node/volumes/vol0");
            assertTrue(Files.exists(volumeDir.resolve("lock")), "the writer's directory is where docs/engine.md says");
            deleteTree(volumeDir);

            String failed = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (failed == null && System.nanoTime() < deadline) {
                NbdTestSupport.Result r = run(qemuIo, "-f", "raw", "-c", "write -P 0x63 16M 64k", tcp);
                if ((r.out() + r.err()).contains("Input/output error")) {
                    failed = r.out() + r.err();
                } else {
                    Thread.sleep(200);
                }
            }
            assertTrue(failed != null, "writes fail with EIO within seconds of the deletion\n" + s.errors());
            String status = cli(data, "control", "status", "--volume", "vol0");
            assertTrue(status.matches("(?s).*writes-refused\\s+local state lost: .*volumes/vol0/(lock|journal) was deleted.*"), status);
            assertTrue(s.errors().contains("refusing further writes"), "logged: " + s.errors());
            runOk(qemuIo, "-f", "raw", "-c", "read -P 0x61 0 4M", "-c", "read -P 0x62 8M 64k", tcp); // reads go on

            assertEquals(0, s.terminate(Duration.ofSeconds(120)), s.output() + "\n" + s.errors());
            assertTrue(s.output().contains("stopped cleanly"), s.output() + "\n" + s.errors());
        }
        try (ServeProcess s = ServeProcess.start(tmp.resolve("serve-2.log"), serve)) {
            String tcp = s.endpoint(s.awaitEndpoints(2, Duration.ofSeconds(60)), "nbd:");
            runOk(qemuIo, "-f", "raw", "-c", "read -P 0x61 0 4M", "-c", "read -P 0x62 8M 64k", tcp);
            runOk(qemuIo, "-f", "raw", "-c", "write -P 0x64 16M 64k", "-c", "read -P 0x64 16M 64k", tcp); // writable again
            assertEquals(0, s.terminate(Duration.ofSeconds(120)), s.output() + "\n" + s.errors());
        }
    }

    private static String cli(Path dir, String... args) {
        String[] argv = java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.stream.Stream.of("--dir", dir.toString()))
                .toArray(String[]::new);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = StrataMain.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, exit, out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    private static void deleteTree(Path root) throws Exception {
        try (var files = Files.walk(root)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
