package dev.strata.engine.store;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real TCP proxy in front of an S3 server that injects faults at the HTTP level, for retry tests
 * without mocks. Per new connection it reads the request head and then either
 * <ul>
 *   <li>answers with an S3 error (status + code) and closes, while error budget remains;</li>
 *   <li>forwards the request but drops the final response and closes the client's socket, while
 *       drop budget remains: the server did the work, the client only sees a broken connection;</li>
 *   <li>otherwise forwards the connection both ways untouched.</li>
 * </ul>
 * Injection decides per connection: the faulty ones are closed, so the client's retry opens a new one.
 */
final class FaultInjectingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int upstreamPort;
    private final int errorStatus;
    private final String errorCode;
    private final AtomicInteger errorsLeft;
    private final AtomicInteger dropsLeft;
    private final AtomicInteger faultsInjected = new AtomicInteger();

    private FaultInjectingProxy(int upstreamPort, int errors, int errorStatus, String errorCode, int drops) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.upstreamPort = upstreamPort;
        this.errorStatus = errorStatus;
        this.errorCode = errorCode;
        this.errorsLeft = new AtomicInteger(errors);
        this.dropsLeft = new AtomicInteger(drops);
        Thread.ofVirtual().name("fault-proxy-accept").start(this::acceptLoop);
    }

    /** Answers the first {@code count} requests with {@code status}/{@code code}, then forwards. */
    static FaultInjectingProxy failing(int upstreamPort, int count, int status, String code) throws IOException {
        return new FaultInjectingProxy(upstreamPort, count, status, code, 0);
    }

    /** Forwards the first {@code count} requests but drops their responses, then forwards normally. */
    static FaultInjectingProxy droppingResponses(int upstreamPort, int count) throws IOException {
        return new FaultInjectingProxy(upstreamPort, 0, 0, null, count);
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    int faultsInjected() {
        return faultsInjected.get();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Thread.ofVirtual().start(() -> handle(client));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void handle(Socket client) {
        try (client) {
            InputStream in = client.getInputStream();
            byte[] head = readHead(in);
            if (head == null) {
                return;
            }
            String headText = new String(head, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
            if (errorsLeft.getAndDecrement() > 0) {
                faultsInjected.incrementAndGet();
                // With "Expect: 100-continue" the client waits for us before sending a body; otherwise
                // drain the body so the client sees our answer, not a reset.
                if (!headText.contains("expect: 100-continue")) {
                    in.skipNBytes(contentLength(headText));
                }
                writeError(client.getOutputStream());
                return;
            }
            try (Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort)) {
                upstream.getOutputStream().write(head);
                upstream.getOutputStream().flush();
                Thread up = Thread.ofVirtual().start(() -> pump(in, upstream));
                boolean drop = dropsLeft.getAndDecrement() > 0;
                if (drop) {
                    faultsInjected.incrementAndGet();
                    forwardInterimThenDrop(upstream.getInputStream(), client.getOutputStream());
                } else {
                    upstream.getInputStream().transferTo(client.getOutputStream());
                }
                up.join(1000);
            }
        } catch (IOException | InterruptedException e) {
            // a client or server hanging up ends this connection; nothing to report
        }
    }

    /** Passes "100 Continue" through (so the body gets sent), then waits for the final status line and hangs up. */
    private static void forwardInterimThenDrop(InputStream fromServer, OutputStream toClient) throws IOException {
        while (true) {
            byte[] response = readHead(fromServer);
            if (response == null) {
                return;
            }
            String status = new String(response, StandardCharsets.ISO_8859_1);
            if (status.startsWith("HTTP/1.1 100")) {
                toClient.write(response);
                toClient.flush();
                continue;
            }
            return; // the server has answered: the request took effect, the client never hears of it
        }
    }

    private static void pump(InputStream from, Socket to) {
        try {
            from.transferTo(to.getOutputStream());
        } catch (IOException e) {
            // connection closed
        }
    }

    private void writeError(OutputStream out) throws IOException {
        String body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + errorCode
                + "</Code><Message>injected by FaultInjectingProxy</Message><RequestId>fault-"
                + faultsInjected.get() + "</RequestId></Error>";
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + errorStatus + " Injected\r\nContent-Type: application/xml\r\nContent-Length: "
                + bytes.length + "\r\nx-amz-request-id: fault-" + faultsInjected.get() + "\r\nConnection: close\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        out.write(bytes);
        out.flush();
    }

    /** The bytes up to and including the blank line ending an HTTP head, or null at end of stream. */
    private static byte[] readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
            if (head.size() > 64 << 10) {
                throw new IOException("HTTP head over 64 KiB");
            }
        }
        return head.toByteArray();
    }

    private static long contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.startsWith("content-length:")) {
                return Long.parseLong(line.substring("content-length:".length()).trim());
            }
        }
        return 0;
    }
}
