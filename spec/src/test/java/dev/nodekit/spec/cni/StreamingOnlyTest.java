package dev.nodekit.spec.cni;

import static dev.nodekit.spec.cni.JsonTrees.assertSameJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.JsonFactory;

/**
 * Proves the hot path needs jackson-core alone: the CNI classes are loaded in a class loader whose
 * class path is this module's classes plus jackson-core, without jackson-databind, and still decode,
 * convert and encode configs, results and errors.
 */
class StreamingOnlyTest {
    private URLClassLoader loader;

    @BeforeEach
    void isolatedLoader() {
        URL classes = NetConf.class.getProtectionDomain().getCodeSource().getLocation();
        URL core = JsonFactory.class.getProtectionDomain().getCodeSource().getLocation();
        loader = new URLClassLoader(new URL[] {classes, core}, ClassLoader.getPlatformClassLoader());
    }

    @AfterEach
    void close() throws Exception {
        loader.close();
    }

    @Test
    void databindIsNotThere() {
        assertThatThrownBy(() -> Class.forName("com.fasterxml.jackson.databind.ObjectMapper", false, loader))
                .isInstanceOf(ClassNotFoundException.class);
    }

    @Test
    void configResultAndErrorWorkWithoutDatabind() throws Exception {
        Object conf = call("NetConf", "parse", Examples.BRIDGE_STDIN);
        assertThat(conf.getClass().getClassLoader()).isSameAs(loader);
        assertSameJson(toJson(conf), Examples.BRIDGE_STDIN);

        Object list = call("NetConfList", "parse", Examples.CONFLIST);
        assertSameJson(toJson(list), Examples.CONFLIST);

        Object result = call("Result", "parse", Examples.bridgeResult("0.4.0"));
        Class<?> versionType = loader.loadClass("dev.nodekit.spec.cni.CniVersion");
        Object v110 = versionType.getMethod("parse", String.class).invoke(null, "1.1.0");
        Object converted = result.getClass().getMethod("convertTo", versionType).invoke(result, v110);
        assertSameJson(toJson(converted), Examples.bridgeResult("1.1.0"));

        Object error = call("CniError", "parse", Examples.ERROR);
        assertSameJson(toJson(error), Examples.ERROR);
        Object version = call("VersionInfo", "parse", Examples.VERSION);
        assertSameJson(toJson(version), Examples.VERSION);
    }

    @Test
    void failuresAreCniExceptionsWithoutDatabind() throws Exception {
        assertThatThrownBy(() -> call("NetConf", "parse", "{\"name\":\"n\"}"))
                .isInstanceOf(InvocationTargetException.class)
                .extracting(Throwable::getCause)
                .satisfies(c -> {
                    assertThat(c.getClass().getName()).isEqualTo("dev.nodekit.spec.cni.CniException");
                    assertThat(c.getMessage()).isEqualTo("type: required (the plugin binary name)");
                });
    }

    private Object call(String type, String method, String arg) throws Exception {
        Class<?> c = loader.loadClass("dev.nodekit.spec.cni." + type);
        return c.getMethod(method, String.class).invoke(null, arg);
    }

    private static String toJson(Object value) throws Exception {
        Method m = value.getClass().getMethod("toJson");
        return (String) m.invoke(value);
    }
}
