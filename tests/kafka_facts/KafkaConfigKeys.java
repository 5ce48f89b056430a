// Prints the configuration keys Apache Kafka itself defines, read from its jars (not from its sources):
//   java -cp 'tests/e2e/.cache/libs/*' tests/kafka_facts/KafkaConfigKeys.java > stacks/kafka_config_keys.json
// topic: LogConfig.configDefCopy(); broker: AbstractKafkaConfig.CONFIG_DEF; MirrorMaker 2: each connector's
// CONNECTOR_CONFIG_DEF and the dedicated-mode driver's MirrorMakerConfig.config(). `make kafka-keys` runs it.
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.utils.AppInfoParser;

public class KafkaConfigKeys {
    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    static String keys(ConfigDef def) {
        List<String> rows = new ArrayList<>();
        for (Map.Entry<String, ConfigDef.ConfigKey> e : new TreeMap<>(def.configKeys()).entrySet()) {
            rows.add("{\"name\": " + quote(e.getKey()) + ", \"type\": " + quote(e.getValue().type.name())
                + ", \"internal\": " + e.getValue().internalConfig + "}");
        }
        return "[\n    " + String.join(",\n    ", rows) + "\n  ]";
    }

    static String names(ConfigDef def) {
        List<String> rows = new ArrayList<>();
        for (String name : new java.util.TreeSet<>(def.names())) rows.add(quote(name));
        return "[" + String.join(", ", rows) + "]";
    }

    // The MirrorMaker definitions are not public API: read them by reflection, as Kafka holds them.
    static ConfigDef field(Class<?> owner) throws Exception {
        java.lang.reflect.Field f = owner.getDeclaredField("CONNECTOR_CONFIG_DEF");
        f.setAccessible(true);
        return (ConfigDef) f.get(null);
    }

    static ConfigDef method(Class<?> owner) throws Exception {
        java.lang.reflect.Method m = owner.getDeclaredMethod("config");
        m.setAccessible(true);
        return (ConfigDef) m.invoke(null);
    }

    public static void main(String[] args) throws Exception {
        ConfigDef topic = org.apache.kafka.storage.internals.log.LogConfig.configDefCopy();
        ConfigDef broker = org.apache.kafka.server.config.AbstractKafkaConfig.CONFIG_DEF;
        StringBuilder out = new StringBuilder();
        out.append("{\n  \"kafka_version\": ").append(quote(AppInfoParser.getVersion())).append(",\n");
        out.append("  \"topic\": ").append(keys(topic)).append(",\n");
        out.append("  \"broker\": ").append(keys(broker)).append(",\n");
        out.append("  \"mirrormaker2\": {\n");
        out.append("    \"source_connector\": ").append(names(field(org.apache.kafka.connect.mirror.MirrorSourceConfig.class))).append(",\n");
        out.append("    \"checkpoint_connector\": ").append(names(field(org.apache.kafka.connect.mirror.MirrorCheckpointConfig.class))).append(",\n");
        out.append("    \"heartbeat_connector\": ").append(names(field(org.apache.kafka.connect.mirror.MirrorHeartbeatConfig.class))).append(",\n");
        out.append("    \"dedicated_mode_driver\": ").append(names(method(org.apache.kafka.connect.mirror.MirrorMakerConfig.class))).append("\n");
        out.append("  }\n}\n");
        System.out.print(out);
    }
}
