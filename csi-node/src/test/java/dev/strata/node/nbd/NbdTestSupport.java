package dev.strata.node.nbd;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Helpers for tests that drive real NBD clients (qemu, libnbd, fio) against a server (in-process or {@code strata serve}). */
public final class NbdTestSupport {
    private NbdTestSupport() {}

    public static final boolean CI = "true".equalsIgnoreCase(System.getenv("CI"));

    /**
     * Returns the path of a client binary. Missing: on CI (CI=true) the test FAILS, elsewhere it
     * is skipped with a loud message, so a laptop without qemu still runs the rest.
     */
    public static String requireTool(String name) {
        for (String dir : List.of("/usr/bin", "/usr/local/bin", "/bin")) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        String message = "NBD client '" + name + "' is not installed (Debian: qemu-utils, libnbd-bin, fio, "
                + "python3-libnbd); " + (CI ? "CI=true, so this is a failure" : "skipping this test");
        System.err.println("!!!!! " + message);
        if (CI) {
            fail(message);
        }
        Assumptions.abort(message);
        return null;
    }

    public record Result(int exit, String out, String err) {
        public String all() {
            return out + err;
        }
    }

    /** Runs a command with /usr/bin first on PATH (nbdsh needs Debian's python3) and a timeout. */
    public static Result run(Duration timeout, Map<String, String> env, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("PATH", "/usr/bin:" + System.getenv("PATH"));
        pb.environment().putAll(env);
        Path out = Files.createTempFile("nbd-out", ".txt");
        Path err = Files.createTempFile("nbd-err", ".txt");
        try {
            pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(
                    Path.of("/dev/null").toFile()));
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                fail("timed out after " + timeout + ": " + String.join(" ", command) + "\n" + Files.readString(err));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    public static Result run(String... command) throws Exception {
        return run(Duration.ofSeconds(120), Map.of(), command);
    }

    /** Runs and fails the test (with the output) unless the exit status is 0. */
    public static Result runOk(String... command) throws Exception {
        Result r = run(command);
        if (r.exit() != 0) {
            fail("exit " + r.exit() + ": " + String.join(" ", command) + "\nstdout:\n" + r.out() + "\nstderr:\n" + r.err());
        }
        return r;
    }

    /** A server on a Unix socket and an ephemeral TCP port, with the given exports. */
    static final class Fixture implements AutoCloseable {
        final NbdServer server;
        final Path socket;
        final List<NbdExport> exports;

        Fixture(Path dir, NbdExport... exports) throws IOException {
            this.socket = dir.resolve("nbd.sock");
            this.exports = List.of(exports);
            NbdServer.Builder b = NbdServer.builder().unixSocket(socket).tcp("127.0.0.1", 0);
            for (NbdExport e : exports) {
                b.export(e);
            }
            this.server = b.build();
            server.start();
        }

        String unixUri(String export) {
            return "nbd+unix:///" + export + "?socket=" + socket;
        }

        String tcpUri(String export) {
            return "nbd://127.0.0.1:" + server.tcpAddress().orElseThrow().getPort() + "/" + export;
        }

        /** Both transports, for parameterised checks. */
        List<String> uris(String export) {
            return new ArrayList<>(List.of(unixUri(export), tcpUri(export)));
        }

        @Override
        public void close() {
            server.close();
        }
    }
}
