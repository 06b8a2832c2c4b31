/** What every page receives: the path after /dashboard (e.g. `/customers/cus_1`) and the query. */
export interface PageProps {
  path: string;
  query: URLSearchParams;
}
