package dev.strata.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.strata.node.nbd.NbdTestSupport;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * The small Debian guest of e2e/kernel-nbd in which the real Linux kernel NBD client attaches a
 * volume of a {@code strata serve} process (docs/kernel-nbd.md): built once per test, booted
 * once per mode; its console is the test's evidence ({@code STRATA-STEP}, {@code STRATA-DONE},
 * {@code STRATA-FAIL} lines).
 */
final class KernelNbdGuest {
    private final Path scripts;
    private final Path dir;
    private final Path logs;

    private KernelNbdGuest(Path scripts, Path dir, Path logs) {
        this.scripts = scripts;
        this.dir = dir;
        this.logs = logs;
    }

    /** What a boot printed (terminal escapes and carriage returns left in, line ends normalised). */
    record Console(int exit, String output) {}

    /**
     * Builds the guest under {@code tmp}; skips the test loudly where the machine lacks QEMU or a
     * package the guest is built from (a failure with CI=true).
     */
    static KernelNbdGuest build(Path tmp) throws Exception {
        NbdTestSupport.requireTool("qemu-system-x86_64");
        Path scripts = Path.of("").toAbsolutePath().getParent().resolve("e2e/kernel-nbd");
        assertTrue(Files.isRegularFile(scripts.resolve("build-guest.sh")), "no guest scripts at " + scripts);
        KernelNbdGuest g = new KernelNbdGuest(scripts, tmp.resolve("guest"), tmp);
        Console build = run(tmp.resolve("build.log"), Duration.ofSeconds(300), null, scripts.resolve("build-guest.sh").toString(),
                g.dir.toString());
        if (build.exit == 2) {
            String m = "the kernel NBD guest cannot be built here: " + build.output
                    + (NbdTestSupport.CI ? "; CI=true, so this is a failure" : "; skipping this test");
            System.err.println("!!!!! " + m);
            if (NbdTestSupport.CI) {
                fail(m);
            }
            Assumptions.abort(m);
        }
        assertEquals(0, build.exit, "build-guest.sh\n" + build.output);
        return g;
    }

    /** Boots the guest in {@code mode} against 127.0.0.1:{@code port} until it powers off; fails on a STRATA-FAIL line. */
    Console boot(int port, String mode, int mib) throws Exception {
        return boot(port, mode, mib, null);
    }

    /** As {@link #boot(int, String, int)}, handing every console line to {@code lines} as it arrives. */
    Console boot(int port, String mode, int mib, Consumer<String> lines) throws Exception {
        Console c = run(logs.resolve("guest-" + mode + ".log"), Duration.ofSeconds(420), lines, scripts.resolve("boot-guest.sh").toString(),
                dir.toString(), Integer.toString(port), "vol0", mode, Integer.toString(mib), "400");
        if (c.output.contains("STRATA-FAIL")) {
            fail("the " + mode + " guest failed:\n" + c.output);
        }
        return c;
    }

    /** {@code strata serve} of a 256 MiB volume {@code vol0} in {@code data}, on a TCP port of its choice (the guest dials TCP). */
    static String[] serveArgs(Path data) {
        return new String[] {"serve", "--dir", data.toString(), "--size", "256MiB", "--listen", "127.0.0.1:0"};
    }

    /** The port of the TCP endpoint {@code strata serve} printed. */
    static int port(ServeProcess s) throws Exception {
        String tcp = s.endpoint(s.awaitEndpoints(2, Duration.ofSeconds(60)), "nbd:");
        Matcher m = Pattern.compile("nbd://127\\.0\\.0\\.1:(\\d+)/vol0").matcher(tcp);
        assertTrue(m.matches(), tcp);
        return Integer.parseInt(m.group(1));
    }

    /** Bytes of the volume that base:allocation reports as data (nbdinfo --map --totals). */
    static long allocatedBytes(int port) throws Exception {
        String map = NbdTestSupport.runOk(NbdTestSupport.requireTool("nbdinfo"), "--map", "--totals", "nbd://127.0.0.1:" + port + "/vol0").out();
        long data = 0;
        for (String line : map.strip().split("\n")) {
            String[] f = line.strip().split("\\s+");
            if (f.length >= 4 && f[2].equals("0")) { // type 0: allocated, not zero
                data += Long.parseLong(f[0]);
            }
        }
        return data;
    }

    /** Runs {@code cmd} with its output in {@code log} (and, line by line, to {@code lines}); killed after {@code limit}. */
    private static Console run(Path log, Duration limit, Consumer<String> lines, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        StringBuilder out = new StringBuilder();
        Thread reader = Thread.ofPlatform().daemon().name("guest-console").start(() -> {
            // ISO-8859-1: the console has terminal escapes; every byte maps to one char.
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.ISO_8859_1))) {
                String line;
                while ((line = r.readLine()) != null) {
                    line = line.replace("\r", "");
                    synchronized (out) {
                        out.append(line).append('\n');
                    }
                    if (lines != null) {
                        lines.accept(line);
                    }
                }
            } catch (IOException ignored) {
                // the process is gone
            }
        });
        if (!p.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor();
        }
        reader.join(10_000);
        String text;
        synchronized (out) {
            text = out.toString();
        }
        Files.writeString(log, text, StandardCharsets.ISO_8859_1);
        return new Console(p.exitValue(), text);
    }
}
