package dev.strata.node.control;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * The control protocol of a running {@code strata serve}, format version 1 (docs/control.md).
 *
 * <p>One Unix-domain stream socket per served volume. A request is one line of UTF-8:
 * {@code STRATA-CONTROL 1 VERB ARG...}, tokens separated by single spaces, at most
 * {@value #MAX_LINE} bytes, ending in {@code \n}. The answer is zero or more {@code progress TEXT}
 * and {@code field KEY VALUE} lines, then exactly one final line: {@code ok} or
 * {@code error CODE MESSAGE}. Requests on one connection are answered in order, one at a time.
 */
public final class ControlProtocol {
    private ControlProtocol() {}

    public static final String MAGIC = "STRATA-CONTROL";
    public static final int VERSION = 1;
    /** Longest request or answer line in bytes, without the newline. */
    public static final int MAX_LINE = 4096;

    // Requests.
    public static final String SNAPSHOT_CREATE = "snapshot-create";
    public static final String SNAPSHOT_DELETE = "snapshot-delete";
    public static final String FLUSH = "flush";
    public static final String STATUS = "status";
    public static final String GC = "gc";

    // Error codes (the CODE of an "error" line).
    public static final String E_BAD_REQUEST = "bad-request";
    public static final String E_UNSUPPORTED_VERSION = "unsupported-version";
    public static final String E_UNKNOWN_REQUEST = "unknown-request";
    public static final String E_BAD_ARGUMENT = "bad-argument";
    public static final String E_WRONG_VOLUME = "wrong-volume";
    public static final String E_SNAPSHOT_EXISTS = "snapshot-exists";
    public static final String E_SNAPSHOT_NOT_FOUND = "snapshot-not-found";
    public static final String E_SNAPSHOT_IN_USE = "snapshot-in-use";
    public static final String E_FENCED = "volume-fenced";
    public static final String E_SHUTTING_DOWN = "shutting-down";
    public static final String E_FAILED = "failed";
    /** Client side only: the connection ended before the final line (serve stopped or died mid-request). */
    public static final String E_CONNECTION_LOST = "connection-lost";

    /** The request line (without the newline) for a verb and its arguments. */
    public static String request(String verb, List<String> args) {
        StringBuilder b = new StringBuilder(MAGIC).append(' ').append(VERSION).append(' ').append(verb);
        for (String a : args) {
            if (a.isEmpty() || a.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
                throw new IllegalArgumentException("control request argument '" + a + "' is empty or holds spaces");
            }
            b.append(' ').append(a);
        }
        return b.toString();
    }

    /**
     * Where {@code serve} listens for a volume unless {@code --control} says otherwise:
     * {@code LOCALDIR/control/VOLUME.sock}, LOCALDIR being the node's local state directory
     * ({@code DIR/node} for {@code --dir DIR}).
     */
    public static Path defaultSocket(Path localDir, String volume) {
        return localDir.resolve("control").resolve(volume + ".sock").toAbsolutePath();
    }

    /** One line without control characters (a message is never split). */
    static String oneLine(String s) {
        String t = s == null ? "" : s.replaceAll("[\\r\\n\\t]+", " ").strip();
        byte[] b = t.getBytes(StandardCharsets.UTF_8);
        return b.length <= MAX_LINE - 64 ? t : new String(b, 0, MAX_LINE - 64, StandardCharsets.UTF_8) + "...";
    }

    /** Reads one {@code \n}-terminated line; null at end of stream before any byte. */
    static String readLine(InputStream in) throws IOException {
        byte[] buf = new byte[256];
        int n = 0;
        while (true) {
            int c = in.read();
            if (c < 0) {
                if (n == 0) {
                    return null;
                }
                throw new IOException("the connection ended in the middle of a line");
            }
            if (c == '\n') {
                return new String(buf, 0, n, StandardCharsets.UTF_8);
            }
            if (n == MAX_LINE) {
                throw new LineTooLongException();
            }
            if (n == buf.length) {
                buf = java.util.Arrays.copyOf(buf, Math.min(MAX_LINE, buf.length * 2));
            }
            buf[n++] = (byte) c;
        }
    }

    static void writeLine(OutputStream out, String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    static final class LineTooLongException extends IOException {
        LineTooLongException() {
            super("line longer than " + MAX_LINE + " bytes");
        }
    }
}
