import { Migration20261123102440_initial } from './Migration20261123102440_initial.js';
import { Migration20261123110626_backoffice } from './Migration20261123110626_backoffice.js';
import { Migration20261123141404_search_indexes } from './Migration20261123141404_search_indexes.js';
import { Migration20261130081007_ledger } from './Migration20261130081007_ledger.js';
import { Migration20261130081452_asserted_paid_index } from './Migration20261130081452_asserted_paid_index.js';
import { Migration20261130084334_money_out_index } from './Migration20261130084334_money_out_index.js';
import { Migration20261130090556_order_number } from './Migration20261130090556_order_number.js';
import { Migration20261130110943_dashboard_indexes } from './Migration20261130110943_dashboard_indexes.js';
import { Migration20261130111003_payer_customer_display } from './Migration20261130111003_payer_customer_display.js';
import { Migration20261130111116_line_refunds_notes } from './Migration20261130111116_line_refunds_notes.js';
import { Migration20261130114726_refund_request_key } from './Migration20261130114726_refund_request_key.js';
import { Migration20261130111356_order_search } from './Migration20261130111356_order_search.js';
import { Migration20261130122106_search_keys } from './Migration20261130122106_search_keys.js';
import { Migration20261130141016_search_document_once } from './Migration20261130141016_search_document_once.js';
import { Migration20261130145923_event_vocabulary } from './Migration20261130145923_event_vocabulary.js';
import { Migration20261130173457_sale_ledger } from './Migration20261130173457_sale_ledger.js';
import { Migration20261130173458_order_unpaid_index } from './Migration20261130173458_order_unpaid_index.js';
import { Migration20261130234152_search_values } from './Migration20261130234152_search_values.js';
import { Migration20261130234153_search_values_fill } from './Migration20261130234153_search_values_fill.js';
import { Migration20261201070256_unpaid_sale } from './Migration20261201070256_unpaid_sale.js';
import { Migration20261201224500_authenticate_fn } from './Migration20261201224500_authenticate_fn.js';
import { Migration20261202060000_search_values_no_pending } from './Migration20261202060000_search_values_no_pending.js';
import { Migration20261202070000_jit_off } from './Migration20261202070000_jit_off.js';
import { Migration20261203070000_dispute_flag } from './Migration20261203070000_dispute_flag.js';
import { Migration20261203120000_posting_status } from './Migration20261203120000_posting_status.js';
import { Migration20261203190000_latest_attempt } from './Migration20261203190000_latest_attempt.js';
import { Migration20261204130000_search_status } from './Migration20261204130000_search_status.js';

/** Every migration, in order. `npm run migration:create -w @orders/server` generates the next one. */
export const migrations = [
  Migration20261123102440_initial, Migration20261123110626_backoffice, Migration20261123141404_search_indexes, Migration20261130081007_ledger,
  Migration20261130081452_asserted_paid_index,
  Migration20261130084334_money_out_index,
  Migration20261130090556_order_number,
  Migration20261130110943_dashboard_indexes,
  Migration20261130111003_payer_customer_display,
  Migration20261130111116_line_refunds_notes,
  Migration20261130111356_order_search,
  Migration20261130114726_refund_request_key,
  Migration20261130122106_search_keys,
  Migration20261130141016_search_document_once,
  Migration20261130145923_event_vocabulary,
  Migration20261130173457_sale_ledger,
  Migration20261130173458_order_unpaid_index,
  Migration20261130234152_search_values,
  Migration20261130234153_search_values_fill,
  Migration20261201070256_unpaid_sale,
  Migration20261201224500_authenticate_fn,
  Migration20261202060000_search_values_no_pending,
  Migration20261202070000_jit_off,
  Migration20261203070000_dispute_flag,
  Migration20261203120000_posting_status,
  Migration20261203190000_latest_attempt,
  Migration20261204130000_search_status,
];
