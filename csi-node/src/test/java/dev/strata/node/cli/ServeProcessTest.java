package dev.strata.node.cli;

import static dev.strata.node.nbd.NbdTestSupport.requireTool;
import static dev.strata.node.nbd.NbdTestSupport.runOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 3, acceptance 2: {@code strata serve} as a real process with real clients. Data written
 * over NBD survives a clean stop (SIGTERM: exit 0, "stopped cleanly") and, once flushed, a
 * SIGKILL; after each restart the whole volume, copied out with nbdcopy, equals what was written.
 */
class ServeProcessTest {
    private static final int M = 1024 * 1024;
    private static final long SIZE = 256L * M;

    @TempDir
    Path tmp;

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void dataSurvivesSigtermAndFlushedDataSurvivesSigkill() throws Exception {
        String nbdcopy = requireTool("nbdcopy");
        String qemuIo = requireTool("qemu-io");
        Path data = tmp.resolve("data");
        Path expected = tmp.resolve("expected.img");
        Path back = tmp.resolve("back.img");
        String[] serve = {"serve", "--dir", data.toString(), "--size", "256MiB", "--listen", "127.0.0.1:0"};

        // 64 MiB of random data with zero stretches, the rest of the 256 MiB volume zeros.
        try (RandomAccessFile f = new RandomAccessFile(expected.toFile(), "rw")) {
            f.setLength(SIZE);
            Random random = new Random(3);
            byte[] chunk = new byte[M];
            for (int i = 0; i < 64; i++) {
                if (i % 8 != 3) {
                    random.nextBytes(chunk);
                    f.seek((long) i * M);
                    f.write(chunk);
                }
            }
        }

        // 1. Fresh volume: nbdcopy the image in over TCP, a qemu-io pattern over the Unix socket, SIGTERM.
        try (ServeProcess s = ServeProcess.start(tmp.resolve("serve-1.log"), serve)) {
            List<String> uris = s.awaitEndpoints(2, Duration.ofSeconds(60));
            assertTrue(s.output().contains("created volume vol0 (" + SIZE + " bytes)"), s.output());
            String unix = s.endpoint(uris, "nbd+unix:");
            String tcp = s.endpoint(uris, "nbd:");
            assertTrue(unix.startsWith("nbd+unix:///vol0?socket=") && tcp.matches("nbd://127\\.0\\.0\\.1:[1-9][0-9]*/vol0"), uris.toString());
            runOk(nbdcopy, "--flush", expected.toString(), tcp);
            runOk(qemuIo, "-f", "raw", "-c", "write -P 0xa7 200M 1M", unix);
            pattern(expected, 200L * M, M, 0xa7);

            int exit = s.terminate(Duration.ofSeconds(120));
            assertEquals(0, exit, "exit status after SIGTERM\n" + s.output() + "\n" + s.errors());
            assertTrue(s.output().contains("stopped cleanly"), s.output() + "\n" + s.errors());
        }

        // 2. Restart: the volume exists and reads back identical. Then more writes, a flush, SIGKILL.
        try (ServeProcess s = ServeProcess.start(tmp.resolve("serve-2.log"), serve)) {
            List<String> uris = s.awaitEndpoints(2, Duration.ofSeconds(60));
            assertFalse(s.output().contains("created volume"), s.output());
            runOk(nbdcopy, s.endpoint(uris, "nbd+unix:"), back.toString());
            assertEquals(-1L, Files.mismatch(expected, back), "volume differs after SIGTERM and restart");

            runOk(qemuIo, "-f", "raw", "--discard=unmap",
                    "-c", "write -P 0x3c 100M 3M",        // new data
                    "-c", "write -P 0x4d 5M 512k",        // overwrites random data
                    "-c", "write -f -P 0x5e 9M 64k",      // FUA
                    "-c", "write -z 17M 1M",              // WRITE_ZEROES over data
                    "-c", "discard 33M 2M",               // TRIM over data
                    "-c", "flush",
                    s.endpoint(uris, "nbd:"));
            pattern(expected, 100L * M, 3 * M, 0x3c);
            pattern(expected, 5L * M, M / 2, 0x4d);
            pattern(expected, 9L * M, 64 * 1024, 0x5e);
            pattern(expected, 17L * M, M, 0);
            pattern(expected, 33L * M, 2 * M, 0);

            int exit = s.kill();
            assertNotEquals(0, exit, "SIGKILL");
            assertFalse(s.output().contains("stopping"), "SIGKILL left no time for a clean stop: " + s.output());
        }

        // 3. Restart after SIGKILL: the journal is replayed; everything flushed reads back identical.
        try (ServeProcess s = ServeProcess.start(tmp.resolve("serve-3.log"), serve)) {
            List<String> uris = s.awaitEndpoints(2, Duration.ofSeconds(60));
            Files.deleteIfExists(back);
            runOk(nbdcopy, s.endpoint(uris, "nbd:"), back.toString());
            assertEquals(-1L, Files.mismatch(expected, back), "flushed data differs after SIGKILL and restart");
            assertEquals(0, s.terminate(Duration.ofSeconds(120)), s.output() + "\n" + s.errors());
            assertTrue(s.output().contains("stopped cleanly"), s.output() + "\n" + s.errors());
        }
    }

    private static void pattern(Path file, long offset, int length, int value) throws Exception {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            f.write(b);
        }
    }
}
