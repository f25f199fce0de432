package dev.nodekit.spec.cni;

import java.util.List;

/**
 * What a CNI executable does on ADD, for {@link HotPathClassLoadingTest}: read stdin, decode the
 * config, build a result from its prevResult, print it in the config's version, print an error body.
 * Written without lambdas or string concatenation so that any invokedynamic comes from the library.
 */
public final class HotPathMain {
    private HotPathMain() {
    }

    public static void main(String[] args) throws Exception {
        byte[] in = System.in.readAllBytes();
        CniVersion version = CniVersion.of(in);
        NetConf conf = NetConf.parse(in);
        Result prev = conf.prevResult().orElseThrow();
        Result out = Result.of(CniVersion.LATEST,
                List.of(Interface.host("cni0", "0a:58:0a:58:00:01"),
                        Interface.container("eth0", "c2:11:22:33:44:55", "/run/netns/x")),
                List.of(prev.ips().get(0).withInterface(1)), prev.routes(), prev.dns());
        System.out.println(out.convertTo(version).toJson());
        System.out.println(new CniException(CniError.TRY_AGAIN_LATER, "busy").toError(version).toJson());
    }
}
