package dev.nodekit.common.metrics;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Objects;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;

/**
 * The optional HTTP endpoint behind {@code --metrics-address}: serves {@code GET /metrics} (text or
 * protobuf format, as the scraper asks) and {@code /-/healthy} from one {@link Metrics}. It runs
 * on daemon threads of its own and is closed with the program. Plain HTTP, no authentication: bind
 * it to loopback or a node-local address and let the scraper reach it from the node network.
 */
public final class MetricsServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MetricsServer.class);

    private final HTTPServer server;
    private final InetSocketAddress localAddress;

    private MetricsServer(HTTPServer server, InetSocketAddress localAddress) {
        this.server = server;
        this.localAddress = localAddress;
    }

    /**
     * Starts serving {@code metrics} on {@code address} ({@code host:port}, see {@link ListenAddress}).
     *
     * @throws IllegalArgumentException if the address is malformed
     * @throws IOException if the host does not resolve or the port cannot be bound (in use, privileged)
     */
    public static MetricsServer start(String address, Metrics metrics) throws IOException {
        return start(ListenAddress.parse(address), metrics);
    }

    /** Starts serving {@code metrics} on {@code address}. */
    public static MetricsServer start(ListenAddress address, Metrics metrics) throws IOException {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(metrics, "metrics");
        InetAddress bind;
        try {
            bind = address.host().isPresent() ? InetAddress.getByName(address.host().get()) : null;
        } catch (UnknownHostException e) {
            throw new IOException("metrics address " + address + ": host does not resolve", e);
        }
        HTTPServer.Builder b = HTTPServer.builder().port(address.port()).registry(metrics.registry());
        if (bind != null) {
            b.inetAddress(bind);
        }
        HTTPServer server;
        try {
            server = b.buildAndStart();
        } catch (IOException e) {
            throw new IOException("cannot serve metrics on " + address + ": " + e.getMessage(), e);
        }
        InetSocketAddress local = new InetSocketAddress(
                bind != null ? bind : InetAddress.getByAddress(new byte[4]), server.getPort());
        log.atInfo().addKeyValue("address", address).addKeyValue("port", server.getPort())
                .log("serving metrics on /metrics");
        return new MetricsServer(server, local);
    }

    /** The bound address; the port is the real one when 0 was asked for. */
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    /** The bound port. */
    public int port() {
        return localAddress.getPort();
    }

    /** Stops listening; idempotent. */
    @Override
    public void close() {
        server.close();
    }
}
