// Spark's mapGroupsWithState / flatMapGroupsWithState on the batches of `input/` (one JSON file
// per trigger, availableNow), the programs that `spec.yaml` writes as Rust closures. Run by
// regen.sh through pyspark's bundled spark-shell; prints one `@@ORACLE@@{json}` line per
// (query, batch). Each program here and its twin in spec.yaml must stay the same computation.
import org.apache.spark.sql.{Dataset, Row}
import org.apache.spark.sql.streaming.{GroupState, GroupStateTimeout, OutputMode, Trigger}
import java.sql.Timestamp
import spark.implicits._

// Rows are tuples, not case classes: a case class defined in the REPL makes its tasks wait for
// the REPL line that is running the query (they hang).

// Everything runs inside one object, called from its own REPL line: a streaming query's threads
// must not need a REPL line that is still being initialised (the REPL would deadlock).
object GroupsOracle extends Serializable {
  def main(): Unit = {
    val dir = sys.env("GROUPS_INPUT")
    val work = sys.env("GROUPS_WORK")
    def events() = spark.readStream.schema("user STRING, timestamp TIMESTAMP").option("maxFilesPerTrigger", 1)
      .json(dir).withWatermark("timestamp", "10 seconds").as[(String, Timestamp)]

    def esc(s: String): String = if (s == null) "null" else "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\""

    def run[T](name: String, ds: Dataset[T], mode: String, json: T => String): Unit = {
      val f: (Dataset[T], Long) => Unit = (batch, id) => {
        val rows = batch.collect().map(json).mkString(",")
        println("@@ORACLE@@{\"query\":\"" + name + "\",\"batch\":" + id + ",\"rows\":[" + rows + "]}")
      }
      ds.writeStream.outputMode(mode).option("checkpointLocation", work + "/" + name)
        .trigger(Trigger.AvailableNow()).foreachBatch(f).start().awaitTermination()
    }

    // Sessions per user, closed 30 s (event time) after the user's last event: one row per session,
    // when the watermark passes its timeout (append).
    val sessions = events().groupByKey(_._1).flatMapGroupsWithState[(Long, Long, Long), (String, Long, Long, Long)](
        OutputMode.Append, GroupStateTimeout.EventTimeTimeout) { (user: String, evs: Iterator[(String, Timestamp)], state: GroupState[(Long, Long, Long)]) =>
      if (state.hasTimedOut) {
        val (n, s, e) = state.get
        state.remove()
        Iterator((user, n, s, e))
      } else {
        val ts = evs.map(_._2.getTime).toSeq
        val (n, s, e) = state.getOption match {
          case Some((n, s, e)) => (n + ts.size, math.min(s, ts.min), math.max(e, ts.max))
          case None => (ts.size.toLong, ts.min, ts.max)
        }
        state.update((n, s, e))
        state.setTimeoutTimestamp(e + 30000)
        Iterator.empty
      }
    }
    run[(String, Long, Long, Long)]("sessions", sessions, "append", r => "{\"user\":" + esc(r._1) + ",\"events\":" + r._2 + ",\"startMs\":" + r._3 + ",\"endMs\":" + r._4 + "}")

    // A running count per user, no timeout (update).
    val counts = events().groupByKey(_._1).mapGroupsWithState[Long, (String, Long)](GroupStateTimeout.NoTimeout) {
      (user: String, evs: Iterator[(String, Timestamp)], state: GroupState[Long]) =>
        val n = state.getOption.getOrElse(0L) + evs.size
        state.update(n)
        (user, n)
    }
    run[(String, Long)]("counts", counts, "update", r => "{\"user\":" + esc(r._1) + ",\"n\":" + r._2 + "}")

    // A running count per user that expires 20 s (event time) after the user's last event, with a
    // last row saying so (update).
    val expiring = events().groupByKey(_._1).mapGroupsWithState[(Long, Long), (String, Long, Boolean)](GroupStateTimeout.EventTimeTimeout) {
      (user: String, evs: Iterator[(String, Timestamp)], state: GroupState[(Long, Long)]) =>
        if (state.hasTimedOut) {
          val (n, _) = state.get
          state.remove()
          (user, n, true)
        } else {
          val ts = evs.map(_._2.getTime).toSeq
          val (n, last) = state.getOption.getOrElse((0L, 0L))
          val updated = (n + ts.size, math.max(last, ts.max))
          state.update(updated)
          state.setTimeoutTimestamp(updated._2 + 20000)
          (user, updated._1, false)
        }
    }
    run[(String, Long, Boolean)]("expiring", expiring, "update", r => "{\"user\":" + esc(r._1) + ",\"n\":" + r._2 + ",\"expired\":" + r._3 + "}")
  }
}

GroupsOracle.main()
println("@@ORACLE_DONE@@")
System.exit(0)
