{#-
  MetricFlow's day time spine (dbt `time_spine:` config in metricflow_time_spine.yml): one row per
  calendar day. MetricFlow joins to it for metric_time and for offset or cumulative metrics; the
  range is wide enough for any reporting month of this project.
-#}
select cast(day as date) as date_day
from range(date '2000-01-01', date '2051-01-01', interval 1 day) as days (day)
