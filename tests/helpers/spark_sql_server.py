"""
Runs SQL on a local Spark + Delta Lake session for the Databricks dialect tests.

Protocol (one JSON object per line): request {"id", "sql", "params"} on stdin, where params is an
object (named :markers), a list (positional ? markers) or null; answer {"id", "columns", "types", "rows"} or
{"id", "error", "errorClass"} on stdout. Timestamps come back as ISO-8601 text in UTC, so the
TypeScript side sees the same shapes it gets from the Databricks driver after normalisation.
Startup prints {"ready": true, "version": ...} once the session exists.
"""
import datetime
import decimal
import json
import os
import sys
import tempfile


def to_json_value(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return value.isoformat(timespec="microseconds") + "Z"
        return value.astimezone(datetime.timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return value


def main():
    # The protocol owns stdout: anything Spark, the JVM (which inherits fd 1) or py4j prints goes to
    # stderr instead.
    protocol_out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    from pyspark.sql import SparkSession
    from delta import configure_spark_with_delta_pip

    warehouse_dir = tempfile.mkdtemp(prefix="novade-spark-warehouse-")
    builder = (
        SparkSession.builder.master("local[1]")
        .appName("novade-databricks-dialect")
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.warehouse.dir", warehouse_dir)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "1g")
        .config("spark.databricks.delta.snapshotPartitions", "1")
        .config("spark.sql.ansi.enabled", "true")
        .config("spark.databricks.delta.clusteredTable.enableClusteringTablePreview", "true")
    )
    spark = configure_spark_with_delta_pip(builder).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")

    def reply(obj):
        protocol_out.write(json.dumps(obj) + "\n")
        protocol_out.flush()

    reply({"ready": True, "version": spark.version})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        request = json.loads(line)
        try:
            params = request.get("params")
            df = spark.sql(request["sql"], args=params) if params else spark.sql(request["sql"])
            columns = df.columns
            types = [f.dataType.simpleString() for f in df.schema.fields]
            rows = [[to_json_value(v) for v in row] for row in df.collect()]
            reply({"id": request["id"], "columns": columns, "types": types, "rows": rows})
        except Exception as exc:  # every failure goes back to the caller, the server keeps running
            error_class = getattr(exc, "getErrorClass", lambda: None)()
            reply({"id": request["id"], "error": str(exc), "errorClass": error_class})
    spark.stop()


if __name__ == "__main__":
    main()
