/** `rl.report`: report data (from a search or from MLflow), the report model, Markdown/HTML rendering. */
export {
  latestSearchRun,
  loadReportData,
  type ReportData,
  type ReportTrial,
  reportDataFromSearch,
} from './data';
export {
  leaderboardRows,
  leaderboardTable,
  type RenderedReport,
  renderReport,
  writeReport,
} from './report';
export { buildReportModel, type LeaderboardRow, type ReportModel } from './stats';
