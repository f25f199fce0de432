package dev.nodekit.crishim;

import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.crishim.api.CriInterceptorProvider;
import dev.nodekit.crishim.builtin.BuiltinInterceptors;

/**
 * The interceptor providers: the built-in ones, then those {@link ServiceLoader} finds in the jars
 * of the plug-in path (the class path is searched too, once a plug-in path is given). Plug-in
 * classes load in a class loader of their own whose parent is the shim's, so they see the SPI and
 * the CRI messages, and their own dependencies.
 */
final class Plugins implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Plugins.class);

    private final Map<String, CriInterceptorProvider> providers;
    private final URLClassLoader loader;

    private Plugins(Map<String, CriInterceptorProvider> providers, URLClassLoader loader) {
        this.providers = providers;
        this.loader = loader;
    }

    /**
     * The built-in providers, {@code extra} (tests), and, when {@code pluginPath} names anything,
     * those ServiceLoader finds through a class loader over its jars. With an empty plug-in path
     * nothing is scanned: looking for service files opens every jar of the class path, which a
     * restarting shim should not spend its first tenth of a second on.
     */
    static Plugins load(List<Path> pluginPath, List<CriInterceptorProvider> extra) throws CriShimException {
        Map<String, CriInterceptorProvider> byType = new LinkedHashMap<>();
        for (CriInterceptorProvider p : BuiltinInterceptors.providers()) {
            byType.put(p.type(), p);
        }
        for (CriInterceptorProvider p : extra) {
            if (byType.putIfAbsent(p.type(), p) != null) {
                throw new CriShimException("interceptor type '" + p.type() + "' is provided twice");
            }
        }
        if (pluginPath.isEmpty()) {
            return new Plugins(Map.copyOf(byType), null);
        }
        List<URL> jars = new ArrayList<>();
        for (Path entry : pluginPath) {
            jars.addAll(jarsOf(entry));
        }
        ClassLoader parent = Plugins.class.getClassLoader();
        URLClassLoader loader = new URLClassLoader("nodekit-cri-plugins", jars.toArray(URL[]::new), parent);
        try {
            ServiceLoader<CriInterceptorProvider> sl = ServiceLoader.load(CriInterceptorProvider.class, loader);
            for (CriInterceptorProvider p : sl) {
                String type = p.type();
                CriInterceptorProvider before = byType.putIfAbsent(type, p);
                if (before != null && before.getClass().getName().equals(p.getClass().getName())) {
                    continue; // the same provider seen twice (a jar listed twice, or also on the class path)
                }
                if (before != null) {
                    throw new CriShimException("interceptor type '" + type + "' is provided twice: by "
                            + before.getClass().getName() + " and by " + p.getClass().getName()
                            + " (from " + where(p) + ")");
                }
                log.atInfo().addKeyValue("type", type).addKeyValue("class", p.getClass().getName())
                        .addKeyValue("from", where(p)).log("interceptor plug-in found");
            }
        } catch (ServiceConfigurationError e) {
            closeQuietly(loader);
            throw new CriShimException("an interceptor plug-in on the plug-in path " + pluginPath
                    + " cannot be loaded: " + e.getMessage(), e);
        } catch (CriShimException | RuntimeException e) {
            closeQuietly(loader);
            throw e;
        }
        return new Plugins(Map.copyOf(byType), loader);
    }

    Map<String, CriInterceptorProvider> providers() {
        return providers;
    }

    private static List<URL> jarsOf(Path entry) throws CriShimException {
        List<URL> out = new ArrayList<>();
        try {
            if (Files.isDirectory(entry)) {
                List<Path> found = new ArrayList<>();
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(entry, "*.jar")) {
                    ds.forEach(found::add);
                }
                found.sort(null);
                for (Path p : found) {
                    out.add(p.toUri().toURL());
                }
            } else if (Files.isRegularFile(entry) && entry.toString().endsWith(".jar")) {
                out.add(entry.toUri().toURL());
            } else {
                throw new CriShimException("plug-in path entry " + entry + " is neither a directory nor a .jar file");
            }
        } catch (MalformedURLException e) {
            throw new CriShimException("plug-in path entry " + entry + " is not a valid URL: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new CriShimException("cannot read plug-in directory " + entry + ": " + e, e);
        }
        return out;
    }

    private static String where(Object o) {
        var src = o.getClass().getProtectionDomain().getCodeSource();
        return src == null || src.getLocation() == null ? "unknown" : src.getLocation().toString();
    }

    private static void closeQuietly(URLClassLoader l) {
        if (l != null) {
            try {
                l.close();
            } catch (IOException e) {
                log.atDebug().setCause(e).log("closing the plug-in class loader failed");
            }
        }
    }

    @Override
    public void close() {
        closeQuietly(loader);
    }
}
