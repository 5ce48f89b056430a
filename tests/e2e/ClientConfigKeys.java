// Test support: the configuration keys Kafka's own Java clients define, one per line as `consumer KEY` and
// `producer KEY`, from the jars on the class path (tests/e2e/.cache/libs): what a key in the `clients` output must
// be for the Java client to read it rather than warn that it is unknown (test_client_settings.py).
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

public class ClientConfigKeys {
    public static void main(String[] args) {
        for (String k : ConsumerConfig.configNames()) System.out.println("consumer " + k);
        for (String k : ProducerConfig.configNames()) System.out.println("producer " + k);
    }
}
