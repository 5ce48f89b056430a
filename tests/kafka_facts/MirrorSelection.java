// What MirrorMaker 2 itself would replicate, decided by Kafka's own code (connect-mirror 4.3.1), not ours:
//   java -cp 'tests/e2e/.cache/libs/*' tests/kafka_facts/MirrorSelection.java < flows.json
// Input: a JSON list of flows {id, source, target, config: {connector config as strings}, topics: [names that
// exist on the source]}. For each flow it builds the connector's own topic filter and replication policy from
// the config (so the `topics` list parsing, the regex dialect and the policy's notion of internal topics are
// Kafka's), asks MirrorSourceConnector.shouldReplicateTopic (which adds cycle detection and heartbeats), and
// prints {id: {topic: remote name}} for every topic it would copy.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import org.apache.kafka.common.Configurable;
import org.apache.kafka.connect.mirror.ConfigPropertyFilter;
import org.apache.kafka.connect.mirror.DefaultConfigPropertyFilter;
import org.apache.kafka.connect.mirror.DefaultTopicFilter;
import org.apache.kafka.connect.mirror.MirrorSourceConnector;
import org.apache.kafka.connect.mirror.ReplicationPolicy;
import org.apache.kafka.connect.mirror.SourceAndTarget;
import org.apache.kafka.connect.mirror.TopicFilter;

public class MirrorSelection {
    public static void main(String[] args) throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode flows = json.readTree(System.in);
        ObjectNode out = json.createObjectNode();
        Constructor<MirrorSourceConnector> make = MirrorSourceConnector.class.getDeclaredConstructor(
            SourceAndTarget.class, ReplicationPolicy.class, TopicFilter.class, ConfigPropertyFilter.class, boolean.class);
        make.setAccessible(true);
        Method should = MirrorSourceConnector.class.getDeclaredMethod("shouldReplicateTopic", String.class);
        should.setAccessible(true);
        for (JsonNode flow : flows) {
            Map<String, String> config = new HashMap<>();
            Iterator<Map.Entry<String, JsonNode>> fields = flow.get("config").fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> e = fields.next();
                config.put(e.getKey(), e.getValue().asText());
            }
            String source = flow.get("source").asText();
            String target = flow.get("target").asText();
            config.put("source.cluster.alias", source);
            config.put("target.cluster.alias", target);
            ObjectNode selected = out.putObject(flow.get("id").asText());
            try {
                DefaultTopicFilter filter = new DefaultTopicFilter();
                filter.configure(config);
                ReplicationPolicy policy = (ReplicationPolicy) Class.forName(config.get("replication.policy.class"))
                    .getDeclaredConstructor().newInstance();
                if (policy instanceof Configurable) ((Configurable) policy).configure(config);
                boolean heartbeats = Boolean.parseBoolean(config.getOrDefault("heartbeats.replication.enabled", "true"));
                MirrorSourceConnector connector = make.newInstance(
                    new SourceAndTarget(source, target), policy, filter, new DefaultConfigPropertyFilter(), heartbeats);
                for (JsonNode topic : flow.get("topics")) {
                    String name = topic.asText();
                    if ((Boolean) should.invoke(connector, name)) selected.put(name, policy.formatRemoteTopic(source, name));
                }
            } catch (Exception e) {
                selected.put("__error__", String.valueOf(e.getCause() != null ? e.getCause() : e));
            }
        }
        System.out.println(json.writerWithDefaultPrettyPrinter().writeValueAsString(out));
    }
}
