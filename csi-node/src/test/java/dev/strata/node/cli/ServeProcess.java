package dev.strata.node.cli;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code strata serve} in its own JVM, started the way {@code ./strata} does (StrataMain on the
 * test class path, native access allowed); its standard output is collected line by line and
 * its standard error goes to a log file.
 */
final class ServeProcess implements AutoCloseable {
    final Process process;
    final Path log;
    private final List<String> lines = new ArrayList<>();
    private final Thread reader;

    private ServeProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
        this.reader = Thread.ofPlatform().daemon().name("serve-stdout").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (lines) {
                        lines.add(line);
                        lines.notifyAll();
                    }
                }
            } catch (IOException ignored) {
                // the process is gone
            }
        });
    }

    static ServeProcess start(Path log, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx768m",
                "-Djava.util.logging.SimpleFormatter.format=%1$tF %1$tT %4$s %3$s: %5$s%6$s%n",
                "-cp", System.getProperty("java.class.path"), StrataMain.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .start();
        return new ServeProcess(p, log);
    }

    /** Waits for {@code count} {@code nbd endpoint:} lines and returns their URIs. */
    List<String> awaitEndpoints(int count, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lines) {
            while (true) {
                List<String> uris = lines.stream().filter(l -> l.startsWith("nbd endpoint: "))
                        .map(l -> l.substring("nbd endpoint: ".length()).strip()).toList();
                if (uris.size() >= count) {
                    return uris;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || (!process.isAlive() && !reader.isAlive())) {
                    fail("strata serve printed " + uris.size() + " of " + count + " endpoints (alive: " + process.isAlive()
                            + ")\nstdout:\n" + output() + "\nstderr:\n" + errors());
                }
                lines.wait(Math.max(1, Math.min(200, TimeUnit.NANOSECONDS.toMillis(left))));
            }
        }
    }

    /** The endpoint with the given scheme prefix ({@code nbd+unix:} or {@code nbd:}). */
    String endpoint(List<String> uris, String scheme) {
        return uris.stream().filter(u -> u.startsWith(scheme)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + scheme + " endpoint in " + uris));
    }

    /** Sends SIGTERM, waits for the exit and returns its status. */
    int terminate(Duration timeout) throws Exception {
        // SIGTERM through the handle: Process.destroy() would also close our end of its stdout and lose the last lines.
        process.toHandle().destroy();
        return awaitExit(timeout);
    }

    /** SIGKILL: no chance to flush, upload or close anything. */
    int kill() throws Exception {
        process.destroyForcibly();
        return awaitExit(Duration.ofSeconds(30));
    }

    private int awaitExit(Duration timeout) throws Exception {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            fail("strata serve did not exit within " + timeout + "\nstdout:\n" + output() + "\nstderr:\n" + errors());
        }
        reader.join(30_000);
        return process.exitValue();
    }

    String output() {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }

    String errors() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
