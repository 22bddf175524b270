package dev.strata.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code strata serve} refuses command-line mistakes with exit status 2 and a message naming the
 * flag and the bad value, before it creates or opens anything.
 */
class ServeArgumentsTest {
    @TempDir
    Path tmp;

    record Outcome(int exit, String out, String err) {}

    private Outcome serve(String... args) {
        Path dir = tmp.resolve("data");
        List<String> argv = new ArrayList<>(List.of("serve", "--dir", dir.toString()));
        argv.addAll(List.of(args));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = StrataMain.run(argv.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Outcome(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @ParameterizedTest(name = "{0} {1} -> {2}")
    @CsvSource(delimiter = '|', value = {
        "--bogus-flag | x              | unknown option --bogus-flag",
        "--size       | 12Q            | --size: '12Q' is not a size",
        "--size       | 0              | --size: '0' is not a size",
        "--size       | -4GiB          | --size: '-4GiB' is not a size",
        "--size       | 99999999999TiB | --size: '99999999999TiB' is not a size",
        "--size       | 1000           | --size: '1000' is not a multiple of 4096",
        "--volume     | ../escape      | --volume: invalid volume name '../escape'",
        "--volume     | a/b            | --volume: invalid volume name 'a/b'",
        "--volume     | 'vol 1'        | --volume: invalid volume name 'vol 1'",
        "--volume     | -starts-dash   | --volume: invalid volume name '-starts-dash'",
        "--listen     | localhost      | --listen: HOST:PORT, not 'localhost'",
        "--listen     | 127.0.0.1:99999| --listen: bad port in '127.0.0.1:99999'",
        "--listen     | 127.0.0.1:http | --listen: bad port in '127.0.0.1:http'",
        "--flush-mode | sometimes      | --flush-mode: 'journal' or 'bucket', not 'sometimes'",
        "--coalescer  | 1000           | --coalescer: cluster size 'off' or a multiple of 4096 up to 4MiB, not '1000'",
        "--coalescer  | 8MiB           | --coalescer: cluster size 'off' or a multiple of 4096 up to 4MiB, not '8MiB'",
        "--coalescer  | lots           | --coalescer: 'lots' is not a size",
        "--large-write-bypass | 1000   | --large-write-bypass: 'off' or a multiple of 4096 up to 32MiB, not '1000'",
        "--large-write-bypass | 64MiB  | --large-write-bypass: 'off' or a multiple of 4096 up to 32MiB, not '64MiB'",
        "--large-write-bypass | big    | --large-write-bypass: 'big' is not a size",
        "--cache-size | lots           | --cache-size: 'lots' is not a size",
        "--cache-size | 4096           | --cache-size: 'off' or at least 1MiB, not '4096'",
        "--cache-direct-io | direct    | --cache-direct-io: 'auto', 'on' or 'off', not 'direct'",
        "--s3-region  | eu-west-1      | --s3-region needs --s3-bucket",
    })
    void badArgumentExitsTwoNamingItAndCreatesNothing(String flag, String value, String message) {
        Outcome o = serve(flag, value);
        assertEquals(2, o.exit(), o.err());
        assertTrue(o.err().contains("strata: " + message), "expected '" + message + "' in:\n" + o.err());
        assertTrue(o.err().contains("usage: strata"), o.err());
        assertFalse(Files.exists(tmp.resolve("data")), "a refused command created its directory");
    }

    @Test
    void flagWithoutValueExitsTwo() {
        Outcome o = serve("--size");
        assertEquals(2, o.exit());
        assertTrue(o.err().contains("--size needs a value"), o.err());
    }

    @Test
    void noSocketWithoutListenExitsTwo() {
        Outcome o = serve("--no-socket");
        assertEquals(2, o.exit());
        assertTrue(o.err().contains("--no-socket needs --listen"), o.err());
    }

    /** The same through a real JVM: the process exit status is 2. */
    @Test
    void unknownFlagExitStatusOfTheProcessIsTwo() throws Exception {
        try (ServeProcess s = ServeProcess.start(tmp.resolve("serve.log"), "serve", "--dir", tmp.resolve("data").toString(),
                "--no-such-flag")) {
            assertTrue(s.process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "serve did not exit");
            assertEquals(2, s.process.exitValue());
            assertTrue(s.errors().contains("unknown option --no-such-flag"), s.errors());
            assertFalse(Files.exists(tmp.resolve("data")));
        }
    }

}
