// A small accumulator machine for the yosys case: an FSM, a register file in a memory,
// an ALU with a case statement and a counter. Written for wasmaot's tests.
module alu(input [2:0] op, input [15:0] a, input [15:0] b, output reg [15:0] y, output zero);
  always @* begin
    case (op)
      3'd0: y = a + b;
      3'd1: y = a - b;
      3'd2: y = a & b;
      3'd3: y = a | b;
      3'd4: y = a ^ b;
      3'd5: y = a << b[3:0];
      3'd6: y = a >> b[3:0];
      default: y = (a < b) ? 16'd1 : 16'd0;
    endcase
  end
  assign zero = (y == 16'd0);
endmodule

module cpu(input clk, input rst, input [7:0] instr, input instr_valid,
           output reg [15:0] acc, output reg halted);
  localparam FETCH = 2'd0, EXEC = 2'd1, WRITE = 2'd2, HALT = 2'd3;
  reg [1:0] state;
  reg [7:0] ir;
  reg [15:0] regs [0:7];
  reg [15:0] pc;
  wire [15:0] y;
  wire zero;
  alu u_alu(.op(ir[7:5]), .a(acc), .b(regs[ir[2:0]]), .y(y), .zero(zero));
  always @(posedge clk) begin
    if (rst) begin
      state <= FETCH; acc <= 16'd0; pc <= 16'd0; halted <= 1'b0;
    end else case (state)
      FETCH: if (instr_valid) begin ir <= instr; state <= (instr == 8'hff) ? HALT : EXEC; end
      EXEC: begin acc <= y; state <= WRITE; end
      WRITE: begin
        if (ir[4:3] == 2'b01) regs[ir[2:0]] <= acc;
        pc <= zero ? pc + 16'd2 : pc + 16'd1;
        state <= FETCH;
      end
      HALT: halted <= 1'b1;
    endcase
  end
endmodule
