package dev.strata.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a pod's filesystem sees when its node's {@code strata serve} dies: ext4 on the real kernel
 * NBD client (the guest of e2e/kernel-nbd, docs/kernel-nbd.md) writes files one after another,
 * each fsynced with its directory before the guest reports it durable; the serve process is
 * killed with SIGKILL in the middle of that, with writes in flight. After a restart on the same
 * directory, a second guest mounts (ext4 replays its journal), and every file reported durable
 * is there with the bytes it was written with, and e2fsck finds the filesystem clean. Files not
 * yet reported may be missing or short: their fsync never returned.
 */
class FsyncedFilesOnTheKernelNbdClientSurviveAServeKilledMidWriteTest {
    /** Files reported durable before the kill (each ~128-170 KiB, a few per second under emulation). */
    private static final int DURABLE_BEFORE_KILL = 12;
    private static final Pattern DURABLE = Pattern.compile("STRATA-DURABLE (f\\d+) ([0-9a-f]{64})");
    private static final Pattern FILE = Pattern.compile("STRATA-FILE (f\\d+) ([0-9a-f]{64})");

    @TempDir
    Path tmp;

    @Test
    @Timeout(value = 900, unit = TimeUnit.SECONDS)
    void everyFileFsyncedBeforeTheKillReadsBackAsWrittenAfterARestart() throws Exception {
        KernelNbdGuest guest = KernelNbdGuest.build(tmp);
        String[] serve = KernelNbdGuest.serveArgs(tmp.resolve("data"));
        Map<String, String> durable = new LinkedHashMap<>();
        KernelNbdGuest.Console crash;
        try (ServeProcess s = ServeProcess.start(tmp.resolve("serve-1.log"), serve)) {
            int port = KernelNbdGuest.port(s);
            CountDownLatch enough = new CountDownLatch(DURABLE_BEFORE_KILL);
            Thread killer = Thread.ofPlatform().name("serve-killer").start(() -> {
                try {
                    if (enough.await(400, TimeUnit.SECONDS)) {
                        s.process.destroyForcibly(); // SIGKILL while the guest writes
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            crash = guest.boot(port, "crash", 0, line -> {
                Matcher m = DURABLE.matcher(line);
                if (m.find()) {
                    synchronized (durable) {
                        durable.put(m.group(1), m.group(2));
                    }
                    enough.countDown();
                }
            });
            killer.interrupt();
            killer.join();
            assertTrue(enough.getCount() == 0, "the guest reported " + durable.size() + " durable files, not "
                    + DURABLE_BEFORE_KILL + ", before it stopped:\n" + crash.output());
            s.process.waitFor(30, TimeUnit.SECONDS);
        }
        assertTrue(crash.output().contains("STRATA-STEP writing until the server dies"), crash.output());

        Map<String, String> found = new LinkedHashMap<>();
        try (ServeProcess s = ServeProcess.start(tmp.resolve("serve-2.log"), serve)) {
            KernelNbdGuest.Console recover = guest.boot(KernelNbdGuest.port(s), "recover", 0);
            Matcher m = FILE.matcher(recover.output());
            while (m.find()) {
                found.put(m.group(1), m.group(2));
            }
            assertTrue(recover.output().contains("STRATA-STEP e2fsck clean"), "e2fsck after the journal replay:\n" + recover.output());
            assertTrue(recover.output().contains("STRATA-DONE recover"), recover.output());
            assertEquals(0, s.terminate(Duration.ofSeconds(120)), "exit status after SIGTERM\n" + s.errors());
        }
        synchronized (durable) {
            Matcher stopped = Pattern.compile("STRATA-STEP the writes stopped at (f\\d+)").matcher(crash.output());
            System.err.println("kernel NBD guest: " + durable.size() + " files reported durable before the kill, the writes stopped at "
                    + (stopped.find() ? stopped.group(1) : "(no line: the guest was stopped by the time limit)") + ", "
                    + found.size() + " files found after the restart");
            for (Map.Entry<String, String> e : durable.entrySet()) {
                assertEquals(e.getValue(), found.get(e.getKey()), e.getKey() + " was fsynced before the kill; after the restart it "
                        + (found.containsKey(e.getKey()) ? "differs" : "is missing") + " (found: " + found.keySet() + ")");
            }
        }
    }
}
