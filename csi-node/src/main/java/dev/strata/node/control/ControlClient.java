package dev.strata.node.control;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Talks to a running {@code serve} over its control socket (docs/control.md). One connection,
 * one request at a time.
 */
public final class ControlClient implements AutoCloseable {
    private final Path path;
    private final SocketChannel ch;
    private final InputStream in;
    private final OutputStream out;

    private ControlClient(Path path, SocketChannel ch) {
        this.path = path;
        this.ch = ch;
        this.in = new BufferedInputStream(Channels.newInputStream(ch));
        this.out = Channels.newOutputStream(ch);
    }

    /** What is at a control socket path. */
    public enum Presence {
        /** No file: no serve on this node was started for that path. */
        ABSENT,
        /** A socket file nobody listens on: the serve that made it is gone (killed). */
        STALE,
        /** A serve listens. */
        LIVE
    }

    /**
     * Connects to a live serve.
     *
     * @return the client, or null if nothing listens at {@code path} ({@link #presence} says why)
     */
    public static ControlClient connect(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        try {
            return new ControlClient(path, SocketChannel.open(UnixDomainSocketAddress.of(path)));
        } catch (java.net.ConnectException e) {
            // ECONNREFUSED: the file is left over from a serve that died
            return null;
        } catch (IOException e) {
            if (e.getMessage() != null && (e.getMessage().contains("refused") || e.getMessage().contains("No such file"))) {
                return null; // refused, or the file vanished just now (the serve stopped)
            }
            // e.g. permission denied (another user's serve), path too long: say so rather than guess
            throw new IOException("control socket " + path + ": " + e.getMessage(), e);
        }
    }

    /** Whether a serve listens at {@code path}, the file is stale, or there is none. */
    public static Presence presence(Path path) {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return Presence.ABSENT;
        }
        return answers(path) ? Presence.LIVE : Presence.STALE;
    }

    /** True if something accepts connections at {@code path}. */
    static boolean answers(Path path) {
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    public Path path() {
        return path;
    }

    /**
     * Sends one request and waits for its answer.
     *
     * @param progress gets the text of every {@code progress} line as it arrives
     * @return the answer's fields, in order
     * @throws ControlException for an {@code error} answer, or {@code connection-lost} if the
     *                          connection ends before the final line
     */
    public Map<String, String> call(String verb, List<String> args, Consumer<String> progress) throws IOException {
        String request = ControlProtocol.request(verb, args);
        try {
            ControlProtocol.writeLine(out, request);
        } catch (IOException e) {
            throw lost(verb, e);
        }
        Map<String, String> fields = new LinkedHashMap<>();
        while (true) {
            String line;
            try {
                line = ControlProtocol.readLine(in);
            } catch (IOException e) {
                throw lost(verb, e);
            }
            if (line == null) {
                throw lost(verb, null);
            }
            if (line.equals("ok")) {
                return fields;
            } else if (line.startsWith("progress ")) {
                progress.accept(line.substring("progress ".length()));
            } else if (line.startsWith("field ")) {
                String rest = line.substring("field ".length());
                int sp = rest.indexOf(' ');
                fields.put(sp < 0 ? rest : rest.substring(0, sp), sp < 0 ? "" : rest.substring(sp + 1));
            } else if (line.startsWith("error ")) {
                String rest = line.substring("error ".length());
                int sp = rest.indexOf(' ');
                throw new ControlException(sp < 0 ? rest : rest.substring(0, sp), sp < 0 ? "" : rest.substring(sp + 1));
            } else {
                throw new ControlException(ControlProtocol.E_BAD_REQUEST, "serve at " + path + " answered '"
                        + ControlProtocol.oneLine(line) + "', not control protocol version " + ControlProtocol.VERSION);
            }
        }
    }

    private ControlException lost(String verb, IOException cause) {
        return new ControlException(ControlProtocol.E_CONNECTION_LOST, "the serve at " + path
                + " closed the control connection before answering " + verb
                + (cause == null ? "" : " (" + cause.getMessage() + ")")
                + "; it stopped or died: the outcome is unknown (a snapshot either exists whole or not at all: check with"
                + " 'strata snapshot list')");
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
