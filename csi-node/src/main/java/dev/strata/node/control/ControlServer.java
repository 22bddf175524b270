package dev.strata.node.control;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The control endpoint of a running {@code serve}: a Unix-domain socket (mode 0600) that
 * answers {@link ControlProtocol} requests, one virtual thread per connection. A long request
 * gets a {@code progress} line every second while it runs. docs/control.md.
 *
 * <p>{@link #close()} stops accepting, lets requests in flight finish (up to a grace period;
 * requests that arrive meanwhile are answered {@code shutting-down}), closes the connections
 * and removes the socket file.
 */
public final class ControlServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ControlServer.class.getName());
    /** How long {@link #close()} waits for requests in flight (a snapshot waits for its uploads). */
    static final Duration CLOSE_GRACE = Duration.ofSeconds(60);
    static final Duration PROGRESS_EVERY = Duration.ofSeconds(1);

    /** What the requests do. */
    public interface Handler {
        /**
         * Runs one request.
         *
         * @return the {@code field} lines of the answer, in order (keys without spaces)
         * @throws ControlException answered as {@code error CODE MESSAGE}
         * @throws IOException      answered as {@code error failed MESSAGE}
         */
        Map<String, String> handle(String verb, List<String> args) throws IOException;

        /** The text of a {@code progress} line for a request running for {@code elapsed}. */
        default String progress(String verb, List<String> args, Duration elapsed) {
            return verb + " " + String.join(" ", args) + ": still running after " + elapsed.toSeconds() + " s";
        }
    }

    private final Path path;
    private final Handler handler;
    private final ServerSocketChannel listener;
    private final Map<SocketChannel, Thread> connections = new ConcurrentHashMap<>();
    /** Requests running; one outlives its connection if the client goes away, and close() waits for it too. */
    private final Map<Thread, Boolean> running = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final Thread acceptor;
    private volatile boolean closing;

    private ControlServer(Path path, Handler handler, ServerSocketChannel listener) {
        this.path = path;
        this.handler = handler;
        this.listener = listener;
        this.acceptor = Thread.ofVirtual().name("control-accept " + path).unstarted(this::acceptLoop);
    }

    /**
     * Binds {@code path} (creating its directory, mode 0700 if new) and starts accepting. A socket
     * file nobody listens on (left by a serve that died) is replaced; a live one is not.
     *
     * @throws IOException if another process listens on {@code path}, or it is not a socket
     */
    public static ControlServer start(Path path, Handler handler) throws IOException {
        path = path.toAbsolutePath();
        Path dir = path.getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            try {
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system: the socket's own mode still applies
            }
        }
        UnixDomainSocketAddress address;
        try {
            address = UnixDomainSocketAddress.of(path);
        } catch (IllegalArgumentException e) {
            throw new IOException("control socket " + path + ": " + e.getMessage());
        }
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS) || Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)
                    || Files.isSymbolicLink(path)) {
                throw new IOException("control socket " + path + " exists and is not a socket; remove it or pass --control");
            }
            if (ControlClient.answers(path)) {
                throw new IOException("control socket " + path + " is in use by another running serve");
            }
            LOG.log(Level.INFO, "control socket {0}: replacing a stale socket (nothing listens on it)", path);
            Files.delete(path);
        }
        ServerSocketChannel ssc = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ssc.bind(address, 16);
            // Only the owner may connect: a request can snapshot and flush the volume.
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | RuntimeException e) {
            ssc.close();
            String hint = e.getMessage() != null && e.getMessage().contains("too long")
                    ? " (a Unix socket path has at most 107 bytes; pass a shorter one with --control PATH)" : "";
            throw new IOException("control socket " + path + ": " + e.getMessage() + hint, e);
        }
        ControlServer s = new ControlServer(path, handler, ssc);
        s.acceptor.start();
        return s;
    }

    public Path path() {
        return path;
    }

    private void acceptLoop() {
        while (!closing) {
            SocketChannel ch;
            try {
                ch = listener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closing) {
                    return;
                }
                LOG.log(Level.WARNING, "control accept failed: {0}", e.toString());
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    return;
                }
                continue;
            }
            String name = "control-conn #" + ids.incrementAndGet();
            Thread t = Thread.ofVirtual().name(name).unstarted(() -> serve(ch, name));
            connections.put(ch, t);
            if (closing) { // raced with close(): it may have missed this channel
                connections.remove(ch);
                closeQuietly(ch);
                return;
            }
            t.start();
        }
    }

    private void serve(SocketChannel ch, String name) {
        try (ch) {
            InputStream in = new java.io.BufferedInputStream(Channels.newInputStream(ch));
            OutputStream out = Channels.newOutputStream(ch);
            while (true) {
                String line;
                try {
                    line = ControlProtocol.readLine(in);
                } catch (ControlProtocol.LineTooLongException e) {
                    error(out, ControlProtocol.E_BAD_REQUEST, "request line longer than " + ControlProtocol.MAX_LINE + " bytes");
                    return;
                }
                if (line == null) {
                    return;
                }
                if (!answer(line, out)) {
                    return;
                }
            }
        } catch (IOException e) {
            if (!closing) {
                LOG.log(Level.DEBUG, "{0}: {1}", name, e.toString());
            }
        } finally {
            connections.remove(ch);
        }
    }

    /** Answers one request line; false if the connection should end (the request was not understood). */
    private boolean answer(String line, OutputStream out) throws IOException {
        String[] t = line.split(" ", -1);
        if (t.length < 3 || !t[0].equals(ControlProtocol.MAGIC)) {
            error(out, ControlProtocol.E_BAD_REQUEST, "expected '" + ControlProtocol.MAGIC + " " + ControlProtocol.VERSION
                    + " REQUEST ARG...', got '" + ControlProtocol.oneLine(line) + "'");
            return false;
        }
        if (!t[1].equals(Integer.toString(ControlProtocol.VERSION))) {
            error(out, ControlProtocol.E_UNSUPPORTED_VERSION, "this serve speaks control protocol version "
                    + ControlProtocol.VERSION + ", not '" + ControlProtocol.oneLine(t[1]) + "'");
            return false;
        }
        String verb = t[2];
        List<String> args = List.copyOf(Arrays.asList(t).subList(3, t.length));
        if (args.stream().anyMatch(String::isEmpty)) {
            error(out, ControlProtocol.E_BAD_REQUEST, "empty argument (tokens are separated by single spaces)");
            return false;
        }
        long started = System.nanoTime();
        CompletableFuture<Map<String, String>> result = new CompletableFuture<>();
        Thread worker = Thread.ofVirtual().name("control " + verb).unstarted(() -> {
            try {
                result.complete(handler.handle(verb, args));
            } catch (Throwable e) {
                result.completeExceptionally(e);
            } finally {
                running.remove(Thread.currentThread());
            }
        });
        // Registered before the check: either close() sees it (and waits for it) or it sees closing.
        running.put(worker, Boolean.TRUE);
        if (closing) {
            running.remove(worker);
            error(out, ControlProtocol.E_SHUTTING_DOWN, "serve is stopping; the request was not run");
            return true;
        }
        worker.start();
        Map<String, String> fields;
        while (true) {
            try {
                fields = result.get(PROGRESS_EVERY.toMillis(), TimeUnit.MILLISECONDS);
                break;
            } catch (TimeoutException e) {
                String p = handler.progress(verb, args, Duration.ofNanos(System.nanoTime() - started));
                ControlProtocol.writeLine(out, "progress " + ControlProtocol.oneLine(p));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof ControlException ce) {
                    error(out, ce.code(), ce.getMessage());
                } else {
                    LOG.log(Level.WARNING, "control request " + verb + " " + args + " failed: " + c);
                    error(out, ControlProtocol.E_FAILED, c.getMessage() != null ? c.getMessage() : c.toString());
                }
                return true;
            }
        }
        StringBuilder answer = new StringBuilder();
        for (Map.Entry<String, String> f : new LinkedHashMap<>(fields).entrySet()) {
            answer.append("field ").append(f.getKey()).append(' ').append(ControlProtocol.oneLine(f.getValue())).append('\n');
        }
        answer.append("ok");
        ControlProtocol.writeLine(out, answer.toString());
        return true;
    }

    private static void error(OutputStream out, String code, String message) throws IOException {
        ControlProtocol.writeLine(out, "error " + code + " " + ControlProtocol.oneLine(message));
    }

    /** Number of open control connections. */
    public int connectionCount() {
        return connections.size();
    }

    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        closeQuietly(listener);
        try {
            acceptor.join(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Idle connections see end of stream; a request in flight still writes its answer.
        for (SocketChannel ch : connections.keySet()) {
            try {
                ch.shutdownInput();
            } catch (IOException ignored) {
                // already closed
            }
        }
        long deadline = System.nanoTime() + CLOSE_GRACE.toNanos();
        List<Thread> threads = new java.util.ArrayList<>(connections.values());
        threads.addAll(running.keySet());
        for (Thread t : threads) {
            try {
                t.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (SocketChannel ch : connections.keySet()) {
            LOG.log(Level.WARNING, "control connection still busy after {0}, closing it", CLOSE_GRACE);
            closeQuietly(ch);
        }
        if (!running.isEmpty()) {
            LOG.log(Level.WARNING, "{0} control request(s) still running after {1}; stopping without them",
                    running.size(), CLOSE_GRACE);
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot remove control socket {0}: {1}", path, e.toString());
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
