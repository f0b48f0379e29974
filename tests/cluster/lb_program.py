"""ScyllaDB's load-balancing client (alternator-client, PyPI) against the cluster's servers: run
by tests/cluster/test_cluster_localnodes.py in a virtualenv of its own (it imports as
``alternator``, as this project does) with ALTERNATOR_SEED (host:port), AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, ALTERNATOR_TABLE and ALTERNATOR_REQUESTS. It writes the items through
whichever servers the client picks and prints the node list it used as JSON."""

import json
import os

import alternator  # pip install alternator-client


def main() -> None:
    host, port = os.environ["ALTERNATOR_SEED"].rsplit(":", 1)
    config = alternator.Config(seed_hosts=[host], port=int(port), scheme="http",
                               aws_region="us-east-1")
    auth = alternator.Auth.static_credentials(os.environ["AWS_ACCESS_KEY_ID"],
                                              os.environ["AWS_SECRET_ACCESS_KEY"])
    table = os.environ["ALTERNATOR_TABLE"]
    with alternator.Helper(config, auth=auth) as helper:
        assert helper.update_live_nodes(), "no answer from /localnodes"
        nodes = helper.get_nodes()
    with alternator.AlternatorClient(config, auth=auth) as client:
        for i in range(int(os.environ["ALTERNATOR_REQUESTS"])):
            client.put_item(TableName=table, Item={"p": {"S": f"lb{i}"}})
    print(json.dumps(sorted(nodes)))


if __name__ == "__main__":
    main()
